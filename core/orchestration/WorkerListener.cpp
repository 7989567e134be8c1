// SPDX-License-Identifier: GPL-3.0-or-later
#include "WorkerListener.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <QPointer>
#include <QRandomGenerator>

#include <qcoro/qcorolocalsocket.h>

#include <sys/socket.h>
#include <unistd.h>

#include "ipc/FrameCodec.h"
#include "queue/QueueStore.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        bool equalInConstantTime(const QByteArray& a, const QByteArray& b)
        {
            if (a.size() != b.size()) {
                return false;
            }
            unsigned char difference = 0;
            for (qsizetype i = 0; i < a.size(); ++i) {
                difference |= static_cast<unsigned char>(a[i] ^ b[i]);
            }
            return difference == 0;
        }

        // The process on the other end of a local socket, as the kernel reports it.
        std::optional<ucred> peerCredentials(const QLocalSocket* socket)
        {
            ucred credentials{};
            socklen_t length = sizeof credentials;
            const auto fd = static_cast<int>(socket->socketDescriptor());
            if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
                return std::nullopt;
            }
            return credentials;
        }

        const QString OwnerFile = u"owner"_s;
    } // namespace

    QString WorkerListener::privateDirectoryBase()
    {
        // $XDG_RUNTIME_DIR is per user and 0700 itself; without it (ssh, CI) the temporary directory serves.
        const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
        return runtime.isEmpty() || !QDir(runtime).exists() ? QDir::tempPath() : runtime;
    }

    int WorkerListener::removeStalePrivateDirectories(const QString& base)
    {
        int removed = 0;
        const QDir parent(base);
        for (const QFileInfo& entry :
             parent.entryInfoList({u"atelier-??????"_s}, QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden)) {
            if (entry.isSymLink() || entry.ownerId() != ::getuid()) {
                continue; // never another user's, never through a link
            }
            QFile owner(QDir(entry.filePath()).filePath(OwnerFile));
            if (!owner.open(QIODevice::ReadOnly)) {
                continue; // not made by an Atelier that records its owner: not ours to judge
            }
            const QString identity = QString::fromUtf8(owner.read(256));
            owner.close();
            if (!identity.isEmpty() && !QueueStore::isProcessAlive(identity)
                && QDir(entry.filePath()).removeRecursively()) {
                ++removed;
            }
        }
        return removed;
    }

    WorkerListener::WorkerListener(QObject* parent)
        : QObject(parent)
    {
        // Only the user who started Atelier may connect (the directory is 0700 as well).
        m_server.setSocketOptions(QLocalServer::UserAccessOption);
        connect(&m_server, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket* socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                handshake(socket);
            }
        });
    }

    WorkerListener::~WorkerListener() = default;

    QString WorkerListener::listen()
    {
        const QString base = privateDirectoryBase();
        removeStalePrivateDirectories(base);
        // QTemporaryDir creates the directory with mode 0700 and a unique name, so no other user can reach
        // the socket and a stale socket of an earlier run is never in the way.
        m_directory = std::make_unique<QTemporaryDir>(QDir(base).filePath(u"atelier-XXXXXX"_s));
        if (!m_directory->isValid()) {
            return u"cannot create a private directory under %1: %2"_s.arg(base, m_directory->errorString());
        }
        // Who made it: a later Atelier removes it if this process dies without doing so (SIGKILL, a crash).
        QFile owner(m_directory->filePath(OwnerFile));
        if (!owner.open(QIODevice::WriteOnly) || owner.write(QueueStore::processIdentity().toUtf8()) < 0) {
            return u"cannot write %1: %2"_s.arg(owner.fileName(), owner.errorString());
        }
        owner.close();
        if (!m_server.listen(m_directory->filePath(u"coordinator.sock"_s))) {
            return u"cannot listen on %1: %2"_s.arg(m_directory->filePath(u"coordinator.sock"_s),
                                                    m_server.errorString());
        }
        return {};
    }

    QString WorkerListener::socketPath() const
    {
        return m_server.fullServerName();
    }

    QString WorkerListener::privateDirectory() const
    {
        return m_directory ? m_directory->path() : QString();
    }

    QByteArray WorkerListener::expectWorker(int rank)
    {
        QByteArray token(Ipc::TokenSize, Qt::Uninitialized);
        QRandomGenerator::system()->generate(token.begin(), token.end());
        m_tokens.insert(rank, token);
        return token;
    }

    void WorkerListener::expectProcess(int rank, qint64 pid)
    {
        m_pids.insert(rank, pid);
    }

    void WorkerListener::forgetWorker(int rank)
    {
        m_tokens.remove(rank);
        m_pids.remove(rank);
    }

    void WorkerListener::setHandshakeTimeout(std::chrono::milliseconds timeout)
    {
        m_handshakeTimeout = timeout;
    }

    void WorkerListener::reject(QLocalSocket* socket, const QString& reason)
    {
        socket->abort();
        socket->deleteLater();
        emit connectionRejected(reason);
    }

    QCoro::Task<> WorkerListener::handshake(QLocalSocket* socket)
    {
        QPointer<QLocalSocket> guard(socket);
        Ipc::FrameDecoder decoder(Ipc::MaxControlFrameSize);
        const QDeadlineTimer deadline(m_handshakeTimeout);
        Ipc::FrameResult frame;
        while (frame.status != Ipc::FrameStatus::Complete) {
            if (!guard) {
                co_return;
            }
            if (socket->bytesAvailable() == 0) {
                const auto left = std::chrono::milliseconds(deadline.remainingTime());
                if (deadline.hasExpired() || !co_await qCoro(socket).waitForReadyRead(left)) {
                    if (guard) {
                        reject(socket, u"no hello within %1 ms"_s.arg(m_handshakeTimeout.count()));
                    }
                    co_return;
                }
            }
            // Bounded reads: the decoder refuses an oversized length before we read the rest of that frame.
            while (guard && socket->bytesAvailable() > 0 && !decoder.isInvalid()) {
                decoder.feed(socket->read(16 * 1024));
            }
            frame = decoder.next();
            if (frame.status == Ipc::FrameStatus::Invalid) {
                reject(socket, u"bad frame: %1"_s.arg(frame.error));
                co_return;
            }
        }

        const Ipc::DecodeResult decoded = Ipc::decodeMessage(frame.payload);
        const auto* hello = decoded.message ? std::get_if<Ipc::Hello>(&*decoded.message) : nullptr;
        if (!hello) {
            reject(socket,
                   decoded.message ? u"the first message was not a hello"_s : u"bad hello: %1"_s.arg(decoded.error));
            co_return;
        }
        if (hello->protocolVersion != Ipc::ProtocolVersion) {
            reject(socket,
                   u"worker speaks protocol %1, expected %2"_s.arg(hello->protocolVersion).arg(Ipc::ProtocolVersion));
            co_return;
        }
        const auto expected = m_tokens.constFind(hello->rank);
        if (expected == m_tokens.constEnd() || !equalInConstantTime(*expected, hello->token)) {
            reject(socket, u"wrong or unexpected token for rank %1"_s.arg(hello->rank));
            co_return;
        }
        // The token alone is not enough: another process of the same user may have read it (from the pipe, before
        // the worker did). Only the process started for this rank is admitted, as the kernel names the peer.
        const auto peer = peerCredentials(socket);
        const qint64 spawned = m_pids.value(hello->rank, 0);
        if (!peer || peer->uid != getuid() || peer->pid != spawned || peer->pid != hello->pid) {
            reject(socket,
                   u"rank %1's connection comes from pid %2 (claiming %3), not from the worker started for it "
                   u"(%4)"_s.arg(hello->rank)
                       .arg(peer ? QString::number(peer->pid) : u"unknown"_s)
                       .arg(hello->pid)
                       .arg(spawned));
            co_return;
        }
        m_tokens.remove(hello->rank); // each token admits once
        m_pids.remove(hello->rank);
        emit workerAdmitted(hello->rank, socket, *hello, decoder.takeBuffered());
    }
} // namespace Atelier
