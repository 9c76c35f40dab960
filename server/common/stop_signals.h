#ifndef TARIFF_ALERT_SERVER_COMMON_STOP_SIGNALS_H_
#define TARIFF_ALERT_SERVER_COMMON_STOP_SIGNALS_H_

// How the daemons take the signals that stop them: blocked in every thread
// before any other thread starts, then taken by one thread with sigwait, so
// that no handler ever runs in the middle of gRPC's or httplib's threads.

#include <signal.h>

#include <initializer_list>

namespace tariffalert {

// Blocks SIGTERM, SIGINT and `extra` in the calling thread, and so in every
// thread it starts afterwards; returns them, the set to sigwait on. Call it
// first in main, before any thread starts.
sigset_t BlockStopSignals(std::initializer_list<int> extra = {});

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_STOP_SIGNALS_H_
