// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDateTime>
#include <QList>
#include <QString>

#include <functional>
#include <optional>

class QSqlQuery;

#include "render/RenderSettings.h"

namespace Atelier
{
    /// Attempts an item gets (crashes of the process that rendered it included) before it fails for good.
    inline constexpr int DefaultMaxAttempts = 3;

    /// A queue item's place in its life, as the store keeps it. Queued → Running (claimed by one process) →
    /// Done | Failed | Canceled; a Running item whose process died goes back to Queued (the attempt counted).
    enum class ItemState
    {
        Queued,
        Running,
        Done,
        Failed,
        Canceled
    };
    /// "queued", "running", "done", "failed", "canceled": the names kept in the store and shown in the docs.
    QString itemStateName(ItemState state);

    /// One item of a durable queue.
    struct QueueItem
    {
        qint64 id = -1; ///< unique in the store, never reused; the PNG provenance's queueItemId
        QString queue; ///< which queue it belongs to: "window", or "batch:<run id>"
        RenderSettings settings; ///< as queued; the seed is filled in at its first dispatch
        ItemState state = ItemState::Queued;
        int attempts = 0; ///< dispatches that counted, across crashes and restarts
        QString device; ///< where it last ran
        /// Where its image goes: fixed at its first dispatch (before the worker is told), so that an image a crash
        /// left unreported is found there, and a retry writes the same name.
        QString imagePath;
        QString lastError;
        QString key; ///< a content key, for items of a prompt file (--resume matches on it)
        QString owner; ///< the process that claimed it, while Running (see QueueStore::processIdentity())
        QDateTime updated; ///< its last change (UTC, whole seconds)

        friend bool operator==(const QueueItem&, const QueueItem&) = default;
    };

    /// The durable queue: every item of the window's queue and of each `--batch` run, in one SQLite database (WAL
    /// journal, schema versioned) in the data folder, so that a crash of any process loses no item and two
    /// processes never render the same one. Each change is one transaction; claiming an item is one `BEGIN
    /// IMMEDIATE` transaction, so concurrent claimers (threads with their own QueueStore, or processes) each get a
    /// different item.
    ///
    /// One QueueStore is one connection: use it from one thread. Failures (a full disk, a locked or corrupt file)
    /// never throw: calls return false / nothing and error() says why, naming the file.
    class QueueStore final
    {
    public:
        static constexpr int SchemaVersion = 1;
        /// The window's queue.
        static QString windowQueue();

        QueueStore();
        ~QueueStore();
        QueueStore(const QueueStore&) = delete;
        QueueStore& operator=(const QueueStore&) = delete;

        /// Opens (creating it and its folder if needed) the store at @p path; ":memory:" for a private one.
        /// Returns an empty string, or why not, naming the file. A store made by a newer Atelier is refused.
        QString open(const QString& path);
        bool isOpen() const;
        const QString& path() const { return m_path; }
        /// Why the last call failed.
        const QString& error() const { return m_error; }

        /// Appends @p items to @p queue (or puts them first, in their order, when @p atFront), in one transaction.
        /// @p keys, when given, holds one content key per item. Returns the new ids, or nothing on failure.
        std::optional<QList<qint64>> add(const QString& queue, const QList<RenderSettings>& items, bool atFront = false,
                                         const QStringList& keys = {});
        /// Takes the first Queued item of @p queue: it becomes Running, owned by this process. Nothing when none
        /// waits (or on failure: see error()).
        std::optional<QueueItem> claim(const QString& queue);
        /// Records, before the worker is told, the seed and image path of a dispatch and the attempts so far.
        bool recordDispatch(qint64 id, quint64 seed, const QString& imagePath, int attempts, const QString& device);
        bool markDone(qint64 id, const QString& imagePath);
        /// An attempt failed: with @p final the item is Failed, else it stays Running here (retried in this run).
        bool markFailed(qint64 id, const QString& error, bool final);
        /// Gives a Running item back: Queued again, first in its queue. Unless @p attemptCounts (its process died
        /// under it), the attempt its dispatch counted is given back (a stop cut it short).
        bool release(qint64 id, const QString& reason, bool attemptCounts = false);
        /// Gives Failed or Canceled items a new chance: Queued, in their place, with their attempts reset (the
        /// artist's "retry", or a resumed run once the disk has room again).
        bool requeue(const QList<qint64>& ids);
        /// Marks items Canceled (no longer wanted: a resumed file dropped them).
        bool cancel(const QList<qint64>& ids, const QString& reason);
        /// Removes items the artist deleted: waiting or finished ones; Running ones are left alone.
        bool remove(const QList<qint64>& ids);
        /// Replaces the settings of a Queued item (the artist edited it). Fails, and changes nothing, when the item
        /// is no longer Queued.
        bool update(qint64 id, const RenderSettings& settings);
        /// Moves the Queued item @p id to just before @p beforeId (-1: to the end).
        bool move(qint64 id, qint64 beforeId);

        /// The items of @p queue in queue order, all or those in @p state.
        QList<QueueItem> items(const QString& queue, std::optional<ItemState> state = std::nullopt);
        std::optional<QueueItem> item(qint64 id);
        qsizetype count(const QString& queue, ItemState state);

        /// Puts back what a crash left: every Running item of @p queue whose owner process is gone becomes Done
        /// when @p imageMade says its image was written, else Queued again at the front (its attempt was counted
        /// at dispatch), or Failed once it has used @p maxAttempts. Returns how many it recovered (-1 on failure).
        int recover(const QString& queue, const std::function<bool(const QueueItem&)>& imageMade, int maxAttempts);

        /// Who this process is, as claims record it: "host:pid:start time", so that a recycled pid is not taken
        /// for the process that died.
        static QString processIdentity();
        /// Whether the process @p identity names still runs (on another host: assumed to).
        static bool isProcessAlive(const QString& identity);

    private:
        bool fail(const QString& what);
        QList<QueueItem> readItems(QSqlQuery& query);
        bool exec(const QString& sql, const QVariantList& values = {});
        /// Runs @p sql once per id (bound after @p before), all in one transaction.
        bool execForEach(const QString& sql, const QList<qint64>& ids, const QVariantList& before = {});

        QString m_connection;
        QString m_path;
        QString m_error;
    };

    /// `queue.sqlite` in the user's data folder (~/.local/share/Atelier).
    QString defaultQueueStorePath();
    /// Opens @p store at @p path for the window: imports the `queue.jsonl` an older Atelier kept beside it (once:
    /// the file is then renamed `queue.jsonl.imported`), and recovers what a crash left running in the window's
    /// queue (QueueStore::recover(), an image counting as made when a whole PNG is at its planned path). Returns an
    /// empty string, or why the store cannot be used.
    QString openQueueStore(QueueStore& store, const QString& path);
    /// One content key per item of a prompt file: a hash of the item's settings and of how many equal items came
    /// before it, so that a file rendered again (or resumed) maps each of its items to the same key, and two equal
    /// lines stay two items.
    QStringList contentKeys(const QList<RenderSettings>& items);
} // namespace Atelier
