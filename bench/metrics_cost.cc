// What counting costs on the server's paths: ns per call of the metrics the
// stream write, the publish and a Redis round trip make, on one thread and
// on two at once (the stream threads share the counters). Bounded: a fixed
// number of calls.
//
//   metrics_cost [--calls N]

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "server/metrics/metrics.h"

namespace {

using tariffalert::metrics::EventPublished;
using tariffalert::metrics::PublishResult;
using tariffalert::metrics::RedisCall;
using tariffalert::metrics::StreamWrite;

// ns per call of `f`, run `calls` times on each of `threads` threads at once.
template <typename F>
double NsPerCall(int threads, long calls, F f) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&] {
      for (long i = 0; i < calls; ++i) f();
    });
  }
  for (std::thread& t : running) t.join();
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now() - start)
             .count() /
         static_cast<double>(calls);
}

}  // namespace

int main(int argc, char** argv) {
  long calls = 2000000;
  CLI::App app{"ns per call of the metrics on the server's paths"};
  app.add_option("--calls", calls, "calls per measurement and thread")
      ->check(CLI::Range(1000L, 100000000L));
  CLI11_PARSE(app, argc, argv);

  const std::vector<std::vector<std::string>> get = {{"GET", "ta:book"}};
  StreamWrite(1, 1);  // the registry made before timing
  for (int threads : {1, 2}) {
    std::printf(
        "%d thread(s): stream write %.1f ns, publish %.1f ns, "
        "redis round trip %.1f ns\n",
        threads, NsPerCall(threads, calls, [] { StreamWrite(3, 300); }),
        NsPerCall(threads, calls,
                  [] { EventPublished(3, PublishResult::kOk, 0.001); }),
        NsPerCall(threads, calls, [&] {
          RedisCall call(get);
          call.Done(true);
        }));
  }
  return 0;
}
