#ifndef TARIFF_ALERT_BENCH_BENCH_UTIL_H_
#define TARIFF_ALERT_BENCH_BENCH_UTIL_H_

// What every benchmark program shares: percentiles, a process's CPU time and
// memory from /proc, the wall clock other processes can compare with, and the
// long-format CSV all of them append to (bench,system,case,metric,value,unit),
// which bench/run_all.sh turns into the results table.

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tariffalert::bench {

// Nearest-rank percentile, q in [0, 1]; 0 for no samples.
inline double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank =
      static_cast<size_t>(q * static_cast<double>(v.size()) + 0.999999);
  rank = std::max<size_t>(1, std::min(rank, v.size()));
  return v[rank - 1];
}

// CLOCK_REALTIME in nanoseconds: comparable across processes on one machine.
inline int64_t RealtimeNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// User + system CPU seconds the process has used; -1 if it is gone.
inline double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  // Fields after the command name, which is in parentheses and may hold
  // spaces: state is field 3, utime 14, stime 15.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A /proc/<pid>/status figure in KiB ("VmRSS", "VmHWM"); -1 if absent.
inline long ProcessMemoryKib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      return std::stol(line.substr(key.size() + 1));
    }
  }
  return -1;
}

// Appends rows to a CSV file in the shared long format, writing the header
// when the file is new. An empty path writes nothing. Row is false if the
// file could not be written.
class CsvOut {
 public:
  explicit CsvOut(std::string path) : path_(std::move(path)) {}
  bool Row(const std::string& bench, const std::string& system,
           const std::string& scenario, const std::string& metric, double value,
           const std::string& unit) const {
    if (path_.empty()) return true;
    const bool fresh = !std::ifstream(path_).good();
    std::ofstream out(path_, std::ios::app);
    if (fresh) out << "bench,system,case,metric,value,unit\n";
    char number[64];
    std::snprintf(number, sizeof number, "%.6g", value);
    out << bench << ',' << system << ",\"" << scenario << "\"," << metric << ','
        << number << ',' << unit << '\n';
    return out.good();
  }

 private:
  std::string path_;
};

}  // namespace tariffalert::bench

#endif  // TARIFF_ALERT_BENCH_BENCH_UTIL_H_
