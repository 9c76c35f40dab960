#include "server/console_web/gateway.h"

#include <httplib.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "server/common/log.h"
#include "server/console_web/event_streams.h"
#include "server/security/transport.h"
#include "tariffalert/v1/console_service.pb.h"

namespace tariffalert {
namespace {

constexpr char kSessionCookie[] = "ta_session";
constexpr char kCsrfHeader[] = "X-CSRF-Token";
constexpr char kCsrfRefused[] = "missing or wrong CSRF token";
// Longer tokens are not ours (`tariff-alert token new` makes ~50 chars).
constexpr size_t kMaxTokenBytes = 1024;
constexpr off_t kMaxFileBytes = 8 << 20;

// A token the gateway will carry: printable ASCII without the characters a
// cookie value cannot hold (RFC 6265 cookie-octet), so that it round-trips
// through Set-Cookie and becomes an HTTP/2 header value unchanged.
bool IsCarriableToken(absl::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  for (unsigned char c : token) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\') {
      return false;
    }
  }
  return true;
}

// The ta_session cookie's value, or empty.
std::string SessionToken(const httplib::Request& req) {
  for (size_t i = 0; i < req.get_header_value_count("Cookie"); ++i) {
    for (absl::string_view part :
         absl::StrSplit(req.get_header_value("Cookie", i), ';')) {
      part = absl::StripAsciiWhitespace(part);
      if (absl::ConsumePrefix(&part, kSessionCookie) &&
          absl::ConsumePrefix(&part, "=") && IsCarriableToken(part)) {
        return std::string(part);
      }
    }
  }
  return "";
}

// The Set-Cookie value that sets the ta_session cookie to `token`, or
// clears it when `token` is empty.
std::string SessionCookie(absl::string_view token, bool secure) {
  return absl::StrCat(
      kSessionCookie, "=", token, token.empty() ? "; Max-Age=0" : "",
      "; HttpOnly; SameSite=Strict; Path=/", secure ? "; Secure" : "");
}

void Json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, "application/json");
}

void JsonError(httplib::Response& res, int status, grpc::StatusCode code,
               absl::string_view message) {
  Json(res, status, ErrorJson(code, message));
}

void Unauthenticated(httplib::Response& res) {
  JsonError(res, 401, grpc::StatusCode::UNAUTHENTICATED,
            "not logged in, or the token is no longer accepted");
}

// A server's message with the token, should it ever hold it, taken out.
std::string Scrub(const std::string& message, const std::string& token) {
  if (token.empty()) return message;
  return absl::StrReplaceAll(message, {{token, "<token>"}});
}

// A forwarded call's error, as the server gave it (`token` scrubbed).
void GrpcError(httplib::Response& res, const grpc::Status& status,
               const std::string& token) {
  JsonError(res, HttpStatusFor(status.error_code()), status.error_code(),
            Scrub(status.error_message(), token));
}

const char* ContentTypeOf(absl::string_view path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (absl::EndsWith(path, ext)) return type;
  }
  return "application/octet-stream";
}

// A path under the web root that names a file by plain segments: no "..",
// no hidden files, no odd characters.
bool IsPlainRelativePath(absl::string_view path) {
  if (path.empty() || path.size() > 200) return false;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment.empty() || segment[0] == '.') return false;
    for (char c : segment) {
      if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
  }
  return true;
}

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    absl::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", address, ": not host:port (port 0 picks a free one)"));
  }
  absl::string_view host = address.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  if (host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen ", address, ": no host"));
  }
  return std::make_pair(std::string(host), port);
}

bool Readable(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

bool CallRegistry::Add(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  calls_.insert(context);
  return true;
}

void CallRegistry::Remove(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  calls_.erase(context);
}

void CallRegistry::CancelAll() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  // Under the lock: an owner removes its context before destroying it.
  for (grpc::ClientContext* context : calls_) context->TryCancel();
}

bool CallRegistry::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

absl::StatusOr<Replicas> Replicas::Create(
    const std::vector<std::string>& servers,
    const ConnectionOptions& connection) {
  if (servers.empty()) {
    return absl::InvalidArgumentError("--server: at least one is needed");
  }
  Replicas replicas;
  for (const std::string& server : servers) {
    ConnectionOptions options = connection;
    options.server_address = server;
    options.token.clear();
    grpc::ChannelArguments args;
    // As the client library's streams: the server accepts a ping every
    // 10 s at most; a replica that vanished without a FIN is noticed.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    // A page of 1000 alerts with their explanations.
    args.SetMaxReceiveMessageSize(32 << 20);
    auto channel = CreateClientChannel(options, args);
    if (!channel.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--server ", server, ": ", channel.status().message()));
    }
    replicas.addresses_.push_back(server);
    replicas.channels_.push_back(*std::move(channel));
  }
  return replicas;
}

size_t Replicas::Failed(size_t i) const {
  const size_t next = (i + 1) % channels_.size();
  size_t expected = i;
  preferred_->compare_exchange_strong(expected, next);
  return next;
}

ConsoleGateway::ConsoleGateway(GatewayOptions options, CsrfKey csrf_key,
                               Replicas replicas)
    : options_(std::move(options)),
      csrf_key_(std::move(csrf_key)),
      replicas_(std::move(replicas)),
      https_(!options_.https_cert_file.empty()) {}

ConsoleGateway::~ConsoleGateway() = default;

absl::StatusOr<std::unique_ptr<ConsoleGateway>> ConsoleGateway::Create(
    GatewayOptions options, CsrfKey csrf_key) {
  auto host_port = SplitHostPort(options.listen_address);
  if (!host_port.ok()) return host_port.status();
  if (options.https_cert_file.empty() != options.https_key_file.empty()) {
    return absl::InvalidArgumentError(
        "HTTPS needs both --console-tls-cert and --console-tls-key");
  }
  const bool https = !options.https_cert_file.empty();
  if (!https && !IsLoopbackAddress(options.listen_address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", options.listen_address,
        ": plaintext HTTP is served on a loopback address only, and the "
        "browser's token would cross the network in clear; give "
        "--console-tls-cert and --console-tls-key for HTTPS"));
  }
  for (const std::string* file :
       {&options.https_cert_file, &options.https_key_file}) {
    if (!file->empty() && !Readable(*file)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file == &options.https_cert_file ? "--console-tls-cert "
                                                        : "--console-tls-key ",
                       *file, ": cannot read the file"));
    }
  }
  struct stat root;
  if (stat(options.web_root.c_str(), &root) != 0 || !S_ISDIR(root.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--web-root ", options.web_root, ": not a directory"));
  }
  if (!Readable(options.web_root + "/index.html")) {
    TA_LOG(WARNING) << "--web-root " << options.web_root
                    << " has no index.html: GET / answers 404";
  }
  if (options.max_streams < 1) {
    return absl::InvalidArgumentError("--max-streams: at least 1");
  }
  auto replicas = Replicas::Create(options.servers, options.connection);
  if (!replicas.ok()) return replicas.status();

  std::unique_ptr<ConsoleGateway> gateway(new ConsoleGateway(
      std::move(options), std::move(csrf_key), *std::move(replicas)));
  const GatewayOptions& o = gateway->options_;
  if (https) {
    gateway->http_ = std::make_unique<httplib::SSLServer>(
        o.https_cert_file.c_str(), o.https_key_file.c_str());
  } else {
    gateway->http_ = std::make_unique<httplib::Server>();
  }
  if (!gateway->http_->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--console-tls-cert ", o.https_cert_file,
                     " / --console-tls-key ", o.https_key_file,
                     ": OpenSSL cannot use them (PEM certificate and its "
                     "private key)"));
  }
  gateway->Route();
  gateway->host_ = host_port->first;
  const int port = host_port->second;
  if (port == 0) {
    gateway->port_ = gateway->http_->bind_to_any_port(gateway->host_);
  } else {
    gateway->port_ =
        gateway->http_->bind_to_port(gateway->host_, port) ? port : -1;
  }
  if (gateway->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen ", o.listen_address, ": cannot bind (in use?)"));
  }
  return gateway;
}

std::string ConsoleGateway::url() const {
  const bool v6 = absl::StrContains(host_, ':');
  return absl::StrCat(https_ ? "https://" : "http://", v6 ? "[" : "", host_,
                      v6 ? "]" : "", ":", port_, "/");
}

bool ConsoleGateway::Serve() {
  serving_ = true;
  if (stop_requested_) return true;
  return http_->listen_after_bind();
}

void ConsoleGateway::Shutdown() {
  stop_requested_ = true;
  calls_.CancelAll();
  // stop() is a no-op until the accept loop runs: wait for it if Serve()
  // has begun.
  for (int i = 0; i < 200 && serving_ && !http_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  http_->stop();
}

void ConsoleGateway::Route() {
  httplib::Server& s = *http_;
  const int threads = options_.max_streams + options_.extra_threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  // An idle keep-alive connection holds a thread, and a shutdown waits
  // for it: keep it short.
  s.set_keep_alive_timeout(2);
  s.set_keep_alive_max_count(100);
  s.set_default_headers({
      {"Content-Security-Policy",
       "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  });
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        const grpc::StatusCode code = res.status == 404
                                          ? grpc::StatusCode::NOT_FOUND
                                          : grpc::StatusCode::INVALID_ARGUMENT;
        const std::string message = res.status == 404 ? "no such path"
                                    : res.status == 413
                                        ? "the request body is too large"
                                        : "the request was not understood";
        JsonError(res, res.status, code, message);
        return httplib::Server::HandlerResponse::Handled;
      }));
  // The path only: no query, no header, so never a cookie.
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    TA_LOG(DEBUG) << req.method << " " << req.path << " " << res.status;
  });

  s.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    HandleFile("index.html", true, res);
  });
  s.Get(R"(/static/(.+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          HandleFile(req.matches[1], false, res);
        });
  s.Get("/api/presets",
        [this](const httplib::Request&, httplib::Response& res) {
          HandleFile("presets.json", true, res);
        });
  s.Post("/api/login",
         [this](const httplib::Request& req, httplib::Response& res) {
           HandleLogin(req, res);
         });
  s.Get("/api/session",
        [this](const httplib::Request& req, httplib::Response& res) {
          HandleSession(req, res);
        });
  s.Post("/api/logout",
         [this](const httplib::Request& req, httplib::Response& res) {
           HandleLogout(req, res);
         });
  s.Post(R"(/api/rpc/([A-Za-z]+)/([A-Za-z]+))",
         [this](const httplib::Request& req, httplib::Response& res) {
           HandleRpc(req, res);
         });
  s.Get("/api/alerts/stream",
        [this](const httplib::Request& req, httplib::Response& res) {
          HandleAlertStream(req, res);
        });
  s.Get("/api/console/stream",
        [this](const httplib::Request& req, httplib::Response& res) {
          HandleConsoleStream(req, res);
        });
}

bool ConsoleGateway::CheckOrigin(const httplib::Request& req,
                                 httplib::Response& res) {
  // Browsers send Origin on every cross-origin request and on same-origin
  // POSTs; a page elsewhere cannot forge it.
  if (!req.has_header("Origin")) return true;
  const std::string own = absl::StrCat(https_ ? "https://" : "http://",
                                       req.get_header_value("Host"));
  if (req.has_header("Host") && req.get_header_value("Origin") == own) {
    return true;
  }
  JsonError(res, 403, grpc::StatusCode::PERMISSION_DENIED, kCsrfRefused);
  return false;
}

bool ConsoleGateway::CheckStateChange(const httplib::Request& req,
                                      httplib::Response& res,
                                      std::string* token) {
  *token = SessionToken(req);
  if (token->empty()) {
    Unauthenticated(res);
    return false;
  }
  if (!CheckOrigin(req, res)) return false;
  if (!csrf_key_.Matches(*token, req.get_header_value(kCsrfHeader))) {
    JsonError(res, 403, grpc::StatusCode::PERMISSION_DENIED, kCsrfRefused);
    return false;
  }
  return true;
}

grpc::Status ConsoleGateway::CallUnary(const ForwardedMethod& method,
                                       const std::string& token,
                                       const google::protobuf::Message& request,
                                       google::protobuf::Message* response) {
  size_t replica = replicas_.preferred();
  for (size_t attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(options_.rpc_deadline));
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    if (!calls_.Add(&context)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the console gateway is shutting down");
    }
    grpc::Status status =
        method.call(replicas_.channel(replica), &context, request, response);
    calls_.Remove(&context);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        calls_.shutting_down()) {
      return status;
    }
    TA_LOG(INFO) << method.service << "/" << method.method << " on "
                 << replicas_.address(replica)
                 << ": UNAVAILABLE: " << Scrub(status.error_message(), token);
    const size_t next = replicas_.Failed(replica);
    if (!method.read_only || attempt >= replicas_.size()) return status;
    response->Clear();
    replica = next;
  }
}

void ConsoleGateway::RespondSession(const std::string& token, bool set_cookie,
                                    httplib::Response& res) {
  const ForwardedMethod* get_session =
      FindForwardedMethod("ConsoleService", "GetSession");
  v1::Session session;
  const grpc::Status status =
      CallUnary(*get_session, token, v1::GetSessionRequest(), &session);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    // The server's reason goes to the log, not to whoever tries tokens.
    TA_LOG(INFO) << "login refused: " << GrpcCodeName(status.error_code())
                 << ": " << Scrub(status.error_message(), token);
    res.set_header("Set-Cookie", SessionCookie("", https_));
    JsonError(res, 401, grpc::StatusCode::UNAUTHENTICATED,
              "the token was not accepted");
    return;
  }
  if (!status.ok()) {
    GrpcError(res, status, token);
    return;
  }
  if (set_cookie) {
    // A session cookie (no Max-Age): it goes when the browser closes, and
    // the token's own lifetime is the server's business.
    res.set_header("Set-Cookie", SessionCookie(token, https_));
  }
  Json(res, 200,
       absl::StrCat("{\"session\":", MessageToJson(session), ",\"csrf_token\":",
                    JsonStringLiteral(csrf_key_.TokenFor(token)), "}"));
}

void ConsoleGateway::HandleLogin(const httplib::Request& req,
                                 httplib::Response& res) {
  // No CSRF token yet, but a login from another origin is still refused
  // (it could log the browser in as someone else).
  if (!CheckOrigin(req, res)) return;
  google::protobuf::Struct body;
  if (!JsonToMessage(req.body, &body).ok()) {
    JsonError(res, 400, grpc::StatusCode::INVALID_ARGUMENT,
              "the body must be a JSON object {\"token\": \"...\"}");
    return;
  }
  const auto it = body.fields().find("token");
  if (it == body.fields().end() || !it->second.has_string_value() ||
      body.fields().size() != 1) {
    JsonError(res, 400, grpc::StatusCode::INVALID_ARGUMENT,
              "token: a string is required (and no other field)");
    return;
  }
  const std::string token(
      absl::StripAsciiWhitespace(it->second.string_value()));
  if (!IsCarriableToken(token)) {
    JsonError(res, 401, grpc::StatusCode::UNAUTHENTICATED,
              "the token was not accepted");
    return;
  }
  RespondSession(token, /*set_cookie=*/true, res);
}

void ConsoleGateway::HandleSession(const httplib::Request& req,
                                   httplib::Response& res) {
  const std::string token = SessionToken(req);
  if (token.empty()) {
    Unauthenticated(res);
    return;
  }
  RespondSession(token, /*set_cookie=*/false, res);
}

void ConsoleGateway::HandleLogout(const httplib::Request& req,
                                  httplib::Response& res) {
  std::string token;
  if (!CheckStateChange(req, res, &token)) return;
  res.set_header("Set-Cookie", SessionCookie("", https_));
  Json(res, 200, "{}");
}

void ConsoleGateway::HandleRpc(const httplib::Request& req,
                               httplib::Response& res) {
  std::string token;
  if (!CheckStateChange(req, res, &token)) return;
  const std::string service = req.matches[1];
  const std::string name = req.matches[2];
  const ForwardedMethod* method = FindForwardedMethod(service, name);
  if (method == nullptr) {
    JsonError(res, 404, grpc::StatusCode::NOT_FOUND,
              absl::StrCat(service, "/", name,
                           " is not a method the console forwards"));
    return;
  }
  std::unique_ptr<google::protobuf::Message> request(
      method->request_prototype->New());
  if (absl::Status s =
          JsonToMessage(req.body.empty() ? "{}" : req.body, request.get());
      !s.ok()) {
    JsonError(res, 400, grpc::StatusCode::INVALID_ARGUMENT, s.message());
    return;
  }
  std::unique_ptr<google::protobuf::Message> response(
      method->response_prototype->New());
  const grpc::Status status =
      CallUnary(*method, token, *request, response.get());
  if (!status.ok()) {
    GrpcError(res, status, token);
    return;
  }
  Json(res, 200, MessageToJson(*response));
}

namespace {

// One of the --max-streams places, given back when the response is gone.
class StreamSlot {
 public:
  explicit StreamSlot(std::atomic<int>* open) : open_(open) {}
  ~StreamSlot() { open_->fetch_sub(1); }

 private:
  std::atomic<int>* open_;
};

// Serves `stream` as text/event-stream; `slot` lives as long as it.
void ServeEvents(std::shared_ptr<EventStream> stream,
                 std::shared_ptr<StreamSlot> slot, httplib::Response& res) {
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  // Proxies (nginx) must pass each event on at once.
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream", [stream, slot](size_t, httplib::DataSink& sink) {
        return stream->Pump(sink);
      });
}

// Makes the stream of a logged-in browser's request from its token and
// resume point; an error refuses the request (400 INVALID_ARGUMENT).
using OpenStream =
    absl::FunctionRef<absl::StatusOr<std::shared_ptr<EventStream>>(
        const std::string& token, std::optional<uint64_t> resume_after)>;

// A stream request, checked in turn: the session (401), the resume point
// and what `open` checks (400), a place among the `max_streams` that
// `open_streams` counts (503).
void HandleStream(const httplib::Request& req, httplib::Response& res,
                  std::atomic<int>* open_streams, int max_streams,
                  OpenStream open) {
  const std::string token = SessionToken(req);
  if (token.empty()) {
    Unauthenticated(res);
    return;
  }
  auto resume = ParseResumePoint(
      req.get_header_value("Last-Event-ID"), req.has_header("Last-Event-ID"),
      req.get_param_value("after"), req.has_param("after"));
  if (!resume.ok()) {
    JsonError(res, 400, grpc::StatusCode::INVALID_ARGUMENT,
              resume.status().message());
    return;
  }
  // Made before the place is taken: a stream does nothing until its first
  // Pump.
  auto stream = open(token, *resume);
  if (!stream.ok()) {
    JsonError(res, 400, grpc::StatusCode::INVALID_ARGUMENT,
              stream.status().message());
    return;
  }
  if (open_streams->fetch_add(1) >= max_streams) {
    open_streams->fetch_sub(1);
    JsonError(res, 503, grpc::StatusCode::UNAVAILABLE,
              "the console gateway has as many streams open as it serves");
    return;
  }
  ServeEvents(*std::move(stream), std::make_shared<StreamSlot>(open_streams),
              res);
}

}  // namespace

void ConsoleGateway::HandleAlertStream(const httplib::Request& req,
                                       httplib::Response& res) {
  HandleStream(
      req, res, &open_streams_, options_.max_streams,
      [&](const std::string& token, std::optional<uint64_t> resume_after)
          -> absl::StatusOr<std::shared_ptr<EventStream>> {
        v1::AlertFilter filter;
        if (req.has_param("filter")) {
          if (absl::Status s =
                  JsonToMessage(req.get_param_value("filter"), &filter);
              !s.ok()) {
            return absl::InvalidArgumentError(
                absl::StrCat("filter: ", s.message()));
          }
        }
        return std::make_shared<AlertEventStream>(
            &replicas_, &calls_, token, std::move(filter), resume_after);
      });
}

void ConsoleGateway::HandleConsoleStream(const httplib::Request& req,
                                         httplib::Response& res) {
  HandleStream(
      req, res, &open_streams_, options_.max_streams,
      [&](const std::string& token, std::optional<uint64_t> resume_after)
          -> absl::StatusOr<std::shared_ptr<EventStream>> {
        return std::make_shared<ConsoleEventStream>(&replicas_, &calls_, token,
                                                    resume_after);
      });
}

void ConsoleGateway::HandleFile(const std::string& relative_path, bool no_store,
                                httplib::Response& res) {
  const auto not_found = [&res] {
    res.status = 404;
    res.set_header("Cache-Control", "no-store");
    res.set_content("not found\n", "text/plain; charset=utf-8");
  };
  if (!IsPlainRelativePath(relative_path)) return not_found();
  char root[PATH_MAX];
  char file[PATH_MAX];
  const std::string path = absl::StrCat(options_.web_root, "/", relative_path);
  // Resolved, so a symbolic link cannot lead out of the web root.
  if (realpath(options_.web_root.c_str(), root) == nullptr ||
      realpath(path.c_str(), file) == nullptr ||
      !absl::StartsWith(file, absl::StrCat(root, "/"))) {
    return not_found();
  }
  struct stat st;
  if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size > kMaxFileBytes) {
    return not_found();
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return not_found();
  res.status = 200;
  res.set_header("Cache-Control", no_store ? "no-store" : "no-cache");
  res.set_content(text.str(), ContentTypeOf(relative_path));
}

}  // namespace tariffalert
