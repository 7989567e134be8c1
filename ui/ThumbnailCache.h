// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QCache>
#include <QHash>
#include <QImage>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>
#include <QThreadPool>

namespace Atelier
{
    /// Thumbnails of image files, made once and kept: in memory (a small LRU) and in a cache folder, where each is
    /// named by a hash of the image's absolute path, size, mtime and the thumbnail side, so that a changed image
    /// gets a new one. Made off the UI thread, a few at a time, the most recently requested first.
    ///
    /// Lives on the UI thread: request() never blocks; ready() and failed() come on this object's thread.
    class ThumbnailCache final : public QObject
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(ThumbnailCache)

    public:
        /// The gallery's tile: views draw a QImage decoration at its own size, so this is the size artists see.
        static constexpr int DefaultSide = 160;

        enum class State
        {
            None, ///< never requested, dropped before it was made, or evicted from memory
            Pending, ///< waiting or being made
            Ready, ///< in memory: request() returns it
            Failed ///< not an image Qt can read, or gone: not tried again until invalidate()
        };
        Q_ENUM(State)

        /// What the cache did since it was made, for tests and benchmarks.
        struct Stats
        {
            int generated = 0; ///< made from the image
            int loadedFromDisk = 0; ///< read from the cache folder
            int failed = 0;
        };

        /// Thumbnails whose long side is @p side pixels (smaller images are kept at their size), kept in @p folder
        /// (created when needed).
        explicit ThumbnailCache(const QString& folder = defaultFolder(), int side = DefaultSide,
                                QObject* parent = nullptr);
        /// Waits for the thumbnails being made (each takes milliseconds); those waiting are dropped.
        ~ThumbnailCache() override;

        /// `thumbnails` in the user's cache folder (~/.cache/Atelier/Atelier/thumbnails).
        static QString defaultFolder();
        const QString& folder() const { return m_folder; }
        int side() const { return m_side; }

        /// How many thumbnails are made at once (default: one core less than the machine has, 1 to 4).
        void setMaxConcurrentJobs(int jobs);
        int maxConcurrentJobs() const { return m_maxJobs; }
        /// Bytes of thumbnails kept in memory (default 64 MiB, some 650 thumbnails of 160 px).
        void setMemoryBudget(qint64 bytes);
        /// Requests waiting beyond this many drop their oldest: rows scrolled past long ago (default 256).
        void setMaxWaiting(int requests);

        /// The thumbnail of the image at @p path when it is in memory; otherwise a null image, and the thumbnail is
        /// made (once: asking again while it waits only moves it first in line), then ready() or failed() emitted.
        QImage request(const QString& path);
        State state(const QString& path) const;
        /// Why the thumbnail of @p path failed; empty unless state() is Failed.
        QString failure(const QString& path) const;
        /// Drops the request for @p path if it still waits (its row went out of view).
        void cancel(const QString& path);
        /// Drops every request that waits (the view scrolled, or its rows changed); those being made finish.
        void cancelWaiting();
        /// Forgets what is known of @p path (its file changed, or is back): the next request looks at it again.
        void invalidate(const QString& path);
        /// Requests that wait or are being made.
        int pendingCount() const { return int(m_waiting.size() + m_running.size()); }
        Stats stats() const { return m_stats; }

    signals:
        /// request(@p path) now returns the thumbnail.
        void ready(const QString& path);
        void failed(const QString& path, const QString& reason);

    private:
        struct Result
        {
            QImage image;
            QString error;
            bool fromDisk = false;
        };
        /// Runs on a pool thread: the cached file if there is one, else a new thumbnail, saved there.
        static Result make(const QString& path, const QString& folder, int side);
        void startWaiting();
        void finished(const QString& path, const Result& result);

        QString m_folder;
        int m_side;
        int m_maxJobs;
        int m_maxWaiting = 256;
        QCache<QString, QImage> m_memory;
        QHash<QString, QString> m_failures;
        QList<QString> m_waiting; ///< newest last, taken first
        QSet<QString> m_running;
        QSet<QString> m_invalidated; ///< running while invalidated: made again once done
        Stats m_stats;
        QThreadPool m_pool;
    };
} // namespace Atelier
