// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

namespace Atelier::Worker
{
    /// Exit codes of `atelier-worker serve`, so the coordinator can tell why a worker ended.
    namespace ServeExit
    {
        inline constexpr int Ok = 0; ///< Shutdown received, or the coordinator closed the socket
        inline constexpr int Usage = 2; ///< bad arguments, or no 32-byte secret at --token-fd
        inline constexpr int ConnectFailed = 3; ///< the coordinator's socket could not be reached
        inline constexpr int ProtocolError = 4; ///< the coordinator sent an invalid frame or message
        inline constexpr int ModelFailed = 5; ///< the model did not load (an Error{-1, "model"} was sent first)
    } // namespace ServeExit

    /// `atelier-worker serve --socket PATH --rank N --device cpu|cuda:N [--dtype …] [--model PATH] [--threads N]`:
    /// the mode the coordinator runs a worker in. @p arguments starts with the program name.
    ///
    /// The worker connects to the coordinator's QLocalSocket, announces itself with Hello (the secret comes from the
    /// inherited pipe --token-fd names, read once and closed: the environment and argv are visible through /proc),
    /// loads the model, then renders the Jobs it is sent one batch at a time on an
    /// engine thread while the event loop keeps sending a Heartbeat every second and answering Cancel and Shutdown.
    /// A batch larger than the device holds is split, and halved again after an out-of-memory error; one image that
    /// still does not fit is reported with the error code "oom". Returns one of ServeExit.
    ///
    /// Test-only hooks, honoured only when ATELIER_TEST_HOOKS=1 (for the coordinator's fault tests; never set
    /// them in production):
    /// - ATELIER_TEST_STEP_DELAY_MS=N: sleep N ms after every sampler step (a slow worker);
    /// - ATELIER_TEST_CRASH_ON_PROMPT=TEXT: raise SIGSEGV on receiving a Job whose prompt contains TEXT;
    /// - ATELIER_TEST_HANG_ON_PROMPT=TEXT: on receiving such a Job, stop heartbeats and block the event loop
    ///   forever (a hung worker; only a signal ends it);
    /// - ATELIER_TEST_OOM_ABOVE_BATCH=N: a forward pass over more than N images fails as out of memory;
    /// - ATELIER_TEST_OOM_ON_PROMPT=TEXT: a forward pass holding such a prompt fails as out of memory.
    int runServe(const QStringList& arguments);
} // namespace Atelier::Worker
