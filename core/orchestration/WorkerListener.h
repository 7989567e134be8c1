// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHash>
#include <QLocalServer>
#include <QObject>
#include <QTemporaryDir>

#include <chrono>
#include <memory>

#include <qcoro/qcorotask.h>

#include "ipc/Protocol.h"

class QLocalSocket;

namespace Atelier
{
    /// Accepts worker connections on a private local socket and admits only workers that prove who they are.
    ///
    /// The socket lives in a fresh 0700 directory under $XDG_RUNTIME_DIR (or the temporary directory), with a
    /// unique name per run. Each expected worker gets a random 32-byte token (passed to it through an inherited pipe,
    /// never argv or the environment). A connection must send a Hello frame within the handshake timeout whose token
    /// matches the one for its rank (compared in constant time), whose connecting process (SO_PEERCRED) is the one
    /// started for that rank (expectProcess()), and whose protocol version is ours; each token admits once. Anything
    /// else — silence, garbage, an oversized length prefix, a wrong or reused token — closes the connection and reports
    /// why; the listener carries on.
    class WorkerListener final : public QObject
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(WorkerListener)

    public:
        explicit WorkerListener(QObject* parent = nullptr);
        ~WorkerListener() override;

        /// Creates the private directory and starts listening. Returns an empty string, or why it failed.
        QString listen();
        QString socketPath() const;
        /// The private (0700) directory the socket lives in, for other files of the run (the group's rendezvous).
        QString privateDirectory() const;
        /// A fresh token for worker @p rank; a worker started now must present it.
        QByteArray expectWorker(int rank);
        /// The process started for worker @p rank: only a connection whose peer (SO_PEERCRED) is @p pid is admitted
        /// for that rank, whatever token it shows.
        void expectProcess(int rank, qint64 pid);
        /// Stops admitting worker @p rank (its process was stopped or replaced).
        void forgetWorker(int rank);

        void setHandshakeTimeout(std::chrono::milliseconds timeout);

        /// Removes the private directories under @p base (`atelier-XXXXXX`, this user's) whose owner process is gone:
        /// what a coordinator killed with SIGKILL leaves behind. listen() does this first. Returns how many.
        static int removeStalePrivateDirectories(const QString& base = privateDirectoryBase());
        /// Where the private directories go: $XDG_RUNTIME_DIR, else the temporary directory.
        static QString privateDirectoryBase();

    signals:
        /// A worker proved itself. The receiver takes @p socket (reparent it); @p pending holds bytes that arrived
        /// after the Hello frame, which belong to the next frames.
        void workerAdmitted(int rank, QLocalSocket* socket, const Atelier::Ipc::Hello& hello,
                            const QByteArray& pending);
        /// A connection was refused and closed; @p reason says why.
        void connectionRejected(const QString& reason);

    private:
        QCoro::Task<> handshake(QLocalSocket* socket);
        void reject(QLocalSocket* socket, const QString& reason);

        std::unique_ptr<QTemporaryDir> m_directory;
        QLocalServer m_server;
        QHash<int, QByteArray> m_tokens;
        QHash<int, qint64> m_pids;
        std::chrono::milliseconds m_handshakeTimeout{3000};
    };
} // namespace Atelier
