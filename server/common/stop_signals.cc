#include "server/common/stop_signals.h"

#include <pthread.h>

namespace tariffalert {

sigset_t BlockStopSignals(std::initializer_list<int> extra) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  for (int signal : extra) sigaddset(&signals, signal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace tariffalert
