// tariff-console: the web console's gateway (docs/console.md). Parses flags,
// binds, prints the URL, serves until SIGTERM/SIGINT.

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "clients/cli/connection_flags.h"
#include "server/common/log.h"
#include "server/common/stop_signals.h"
#include "server/console_web/csrf.h"
#include "server/console_web/gateway.h"

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The page beside the sources in a build tree, else where `cmake --install`
// put it.
std::string DefaultWebRoot() {
  for (const char* dir :
       {TA_CONSOLE_SOURCE_WEB_ROOT, TA_CONSOLE_INSTALL_WEB_ROOT}) {
    if (IsDirectory(dir)) return dir;
  }
  return TA_CONSOLE_INSTALL_WEB_ROOT;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tariffalert;
  // Before any thread (gRPC's and httplib's too) starts; one thread takes
  // them with sigwait.
  const sigset_t stop_signals = BlockStopSignals();
  // A browser that goes away mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  GatewayOptions options;
  std::vector<std::string> servers;
  std::string csrf_key_file;
  std::string log_level = "info";
  double rpc_deadline_seconds = 10;
  options.web_root = DefaultWebRoot();

  CLI::App app{
      "tariff-console: the web console of tariff-alert. Serves the page and "
      "turns its calls into gRPC calls to tariff-alertd with the logged-in "
      "browser's token (docs/console.md)."};
  app.add_option("--listen", options.listen_address,
                 "host:port to serve on (port 0: a free one); plaintext "
                 "HTTP only on a loopback address")
      ->capture_default_str();
  app.add_option("--server", servers,
                 "tariff-alertd host:port; repeat it or give a comma list "
                 "for replicas, tried in turn (default 127.0.0.1:50051)")
      ->delimiter(',');
  cli::AddTransportFlags(&app, &options.connection);
  app.add_option("--web-root", options.web_root,
                 "directory of the page (index.html, presets.json, the "
                 "files under /static/)")
      ->capture_default_str();
  app.add_option("--csrf-key-file", csrf_key_file,
                 "file whose first line (at least 32 characters, e.g. "
                 "`openssl rand -hex 32`) is the CSRF key, shared by "
                 "gateways behind one address; default: a random key per "
                 "start");
  app.add_option("--console-tls-cert", options.https_cert_file,
                 "PEM certificate chain to serve HTTPS with");
  app.add_option("--console-tls-key", options.https_key_file,
                 "PEM private key of --console-tls-cert");
  app.add_option("--max-streams", options.max_streams,
                 "open event streams at most (503 beyond); each holds a "
                 "thread")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--rpc-deadline-seconds", rpc_deadline_seconds,
                 "deadline of each forwarded call")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 300.0));
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->capture_default_str();
  std::string log_format = "text";
  app.add_option("--log-format", log_format,
                 "stderr lines: 'text' or 'json' (one object per line; "
                 "docs/operations.md, \"Logs\")")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);

  if (absl::Status s = ApplyLogFlags(log_level, log_format); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (!servers.empty()) options.servers = servers;
  options.rpc_deadline = absl::Seconds(rpc_deadline_seconds);

  auto key = csrf_key_file.empty() ? CsrfKey::Random()
                                   : CsrfKey::FromFile(csrf_key_file);
  if (!key.ok()) {
    std::fprintf(stderr, "tariff-console: %s\n",
                 std::string(key.status().message()).c_str());
    return 2;
  }
  auto gateway = ConsoleGateway::Create(std::move(options), *std::move(key));
  if (!gateway.ok()) {
    std::fprintf(stderr, "tariff-console: %s\n",
                 std::string(gateway.status().message()).c_str());
    return 2;
  }
  std::thread signals([g = gateway->get(), &stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    TA_LOG(INFO) << "signal " << signal << ": shutting down";
    g->Shutdown();
  });
  // Tests and scripts read this line for the port.
  std::printf("tariff-console: serving %s\n", (*gateway)->url().c_str());
  std::fflush(stdout);
  const bool served = (*gateway)->Serve();
  if (!served) {
    TA_LOG(ERROR) << "the HTTP server stopped with an error";
    // Wakes the signal thread so that it can be joined.
    pthread_kill(signals.native_handle(), SIGTERM);
  }
  signals.join();
  TA_LOG(INFO) << "stopped";
  return served ? 0 : 1;
}
