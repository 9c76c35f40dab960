#include "server/service/request_parser.h"

#include <chrono>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "server/common/log.h"

namespace tariffalert {
namespace {

// Sub-messages nested deeper than this are not searched (protobuf's own
// parser stops at 100).
constexpr int kMaxDepth = 32;

void ProtobufLog(google::protobuf::LogLevel level, const char* filename,
                 int line, const std::string& message) {
  // Parse errors of hostile requests land here once per request: debug only.
  if (level == google::protobuf::LOGLEVEL_FATAL) {
    TA_LOG(ERROR) << "libprotobuf " << filename << ":" << line << ": "
                  << message;
    return;
  }
  TA_LOG(DEBUG) << "libprotobuf " << filename << ":" << line << ": " << message;
}

std::string Find(absl::string_view bytes,
                 const google::protobuf::Descriptor& descriptor,
                 const std::string& prefix, int depth) {
  using google::protobuf::FieldDescriptor;
  google::protobuf::UnknownFieldSet fields;
  if (depth > kMaxDepth ||
      !fields.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return "";
  }
  // Indexes of repeated fields, counted as their elements appear.
  std::vector<std::pair<int, int>> seen;
  for (int i = 0; i < fields.field_count(); ++i) {
    const google::protobuf::UnknownField& f = fields.field(i);
    if (f.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    const FieldDescriptor* d = descriptor.FindFieldByNumber(f.number());
    if (d == nullptr) continue;
    int index = 0;
    if (d->is_repeated()) {
      auto it = seen.begin();
      while (it != seen.end() && it->first != f.number()) ++it;
      if (it == seen.end()) {
        seen.emplace_back(f.number(), 0);
        it = seen.end() - 1;
      }
      index = it->second++;
    }
    std::string path = absl::StrCat(prefix, d->name());
    if (d->is_repeated() && !d->is_map())
      absl::StrAppend(&path, "[", index, "]");
    if (d->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(f.length_delimited())) return path;
    } else if (d->type() == FieldDescriptor::TYPE_MESSAGE) {
      std::string found = Find(f.length_delimited(), *d->message_type(),
                               absl::StrCat(path, "."), depth + 1);
      if (!found.empty()) return found;
    }
  }
  return "";
}

}  // namespace

void InstallProtobufLogHandler() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(&ProtobufLog); });
}

std::string FindInvalidUtf8Field(
    absl::string_view bytes, const google::protobuf::Descriptor& descriptor) {
  return Find(bytes, descriptor, "", 0);
}

absl::Status ParseMessage(const grpc::ByteBuffer& buffer,
                          google::protobuf::Message* out) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) {
    return absl::InvalidArgumentError("request: could not be read");
  }
  size_t size = 0;
  for (const grpc::Slice& s : slices) size += s.size();
  bytes.reserve(size);
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  if (out->ParseFromString(bytes)) return absl::OkStatus();
  const std::string field = FindInvalidUtf8Field(bytes, *out->GetDescriptor());
  if (!field.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     ": not valid UTF-8 (a string field must be; "
                     "send text, not raw bytes)"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("request: not a valid ", out->GetDescriptor()->full_name()));
}

void SerializeResponse(const google::protobuf::Message& message,
                       grpc::ByteBuffer* buffer) {
  grpc::Slice slice(message.SerializeAsString());
  *buffer = grpc::ByteBuffer(&slice, 1);
}

absl::Status CheckDeadline(const grpc::CallbackServerContext& context) {
  if (context.deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError(
        "the call's deadline passed before the server could start on it");
  }
  return absl::OkStatus();
}

}  // namespace tariffalert
