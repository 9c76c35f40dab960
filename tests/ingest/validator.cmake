# Included from tests/ingest/CMakeLists.txt.
ta_cc_test(NAME event_validator_test SRCS ${CMAKE_CURRENT_LIST_DIR}/event_validator_test.cc DEPS ta_ingest ta_proto)
