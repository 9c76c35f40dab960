#include "server/common/text_proto.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace tariffalert {
namespace {

class Collector : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(absl::string_view file) : file_(file) {}
  void AddError(int line, int column, const std::string& message) override {
    if (error_.empty()) {
      error_ =
          absl::StrCat(file_, ":", line + 1, ":", column + 1, ": ", message);
    }
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& error() const { return error_; }

 private:
  std::string file_;
  std::string error_;
};

}  // namespace

absl::Status ParseTextProto(absl::string_view text, absl::string_view file,
                            google::protobuf::Message* out) {
  google::protobuf::TextFormat::Parser parser;
  Collector collector(file);
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(std::string(text), out)) {
    return absl::InvalidArgumentError(collector.error().empty()
                                          ? absl::StrCat(file, ": cannot parse")
                                          : collector.error());
  }
  return absl::OkStatus();
}

}  // namespace tariffalert
