#ifndef TARIFF_ALERT_TESTS_FUZZ_QUIET_PROTOBUF_H_
#define TARIFF_ALERT_TESTS_FUZZ_QUIET_PROTOBUF_H_

#include <google/protobuf/stubs/logging.h>

// Protobuf logs each string field that is not UTF-8 as it parses; a fuzzer
// makes thousands a second. Call first in LLVMFuzzerTestOneInput.
inline void QuietProtobufLogs() {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);  // FATAL still aborts
    return true;
  }();
  (void)quiet;
}

#endif  // TARIFF_ALERT_TESTS_FUZZ_QUIET_PROTOBUF_H_
