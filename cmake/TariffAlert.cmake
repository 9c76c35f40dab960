# One way to declare a library and a test, after absl_cc_library/absl_cc_test.

set(TA_WARNINGS -Wall -Wextra -Wno-unused-parameter)

# ta_cc_library(NAME name SRCS ... DEPS ...)
function(ta_cc_library)
  cmake_parse_arguments(TA "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${TA_NAME} STATIC ${TA_SRCS})
  target_include_directories(${TA_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${TA_NAME} PRIVATE ${TA_WARNINGS})
  target_link_libraries(${TA_NAME} PUBLIC ${TA_DEPS})
endfunction()

# ta_cc_test(NAME name SRCS ... DEPS ... [LABELS ...])
# Unit tests carry the label "unit"; tests that need the redis-server started
# by tests/run.sh carry "redis"; end-to-end tests "e2e".
function(ta_cc_test)
  cmake_parse_arguments(TA "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${TA_NAME} ${TA_SRCS})
  target_compile_options(${TA_NAME} PRIVATE ${TA_WARNINGS})
  target_link_libraries(${TA_NAME} PRIVATE ${TA_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${TA_NAME} COMMAND ${TA_NAME})
  if(NOT TA_LABELS)
    set(TA_LABELS unit)
  endif()
  if(NOT TA_TIMEOUT)
    set(TA_TIMEOUT 120)
  endif()
  set_tests_properties(${TA_NAME} PROPERTIES LABELS "${TA_LABELS}" TIMEOUT ${TA_TIMEOUT})
endfunction()
