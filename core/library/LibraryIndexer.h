// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

#include "library/ImageLibrary.h"

class QThread;

namespace Atelier
{
    /// Every write to the image library, done on a thread of its own with its own connection, so that the window
    /// never waits for SQLite (a folder scan holds the write lock for up to a second, and a star toggled meanwhile
    /// would otherwise freeze the window until it ends). Readers (the gallery's pages) keep their own connection:
    /// in WAL mode they never wait for this writer.
    ///
    /// Work is done in the order it is asked for. Each request answers with one signal, on this object's thread.
    /// Work still waiting when the indexer is destroyed is done first (a finished render is always indexed).
    class LibraryIndexer final : public QObject
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(LibraryIndexer)

    public:
        /// Writes to the library at @p libraryPath (opened on the indexer's thread at its first request; see
        /// ImageLibrary::open()).
        explicit LibraryIndexer(const QString& libraryPath, QObject* parent = nullptr);
        ~LibraryIndexer() override;

        /// Indexes the PNG at @p path (a finished render): indexed() or failed().
        void addFile(const QString& path);
        /// Indexes @p image as it is (its star included; an image back from the trash): indexed() or failed().
        void addImage(const LibraryImage& image);
        /// ImageLibrary::scanFolder(): scanned() or failed().
        void scanFolder(const QString& folder);
        /// starredChanged() or failed().
        void setStarred(const QList<qint64>& ids, bool starred);
        /// Forgets the rows (their files are left alone): removed() or failed().
        void remove(const QList<qint64>& ids);
        /// Requests asked for whose signal has not come yet.
        int pendingCount() const { return m_pending; }

    signals:
        void indexed(qint64 id, const QString& path);
        void scanned(const QString& folder, const Atelier::LibraryScan& scan);
        void starredChanged(const QList<qint64>& ids, bool starred);
        void removed(const QList<qint64>& ids);
        /// A request failed; @p message names the file (the image's or the library's) and why.
        void failed(const QString& message);
        /// pendingCount() came down to 0.
        void idle();

    private:
        struct Writer;
        /// What a request does on this object's thread once its work is done: emits its answer.
        using Answer = std::function<void()>;
        /// Runs @p work on the writer thread, then the answer it returns on this object's thread.
        void post(std::function<Answer(ImageLibrary&)> work);
        /// The answer to a request that failed: failed() with the library's error.
        Answer failure(const ImageLibrary& library);

        QThread* m_thread;
        QObject* m_context; ///< lives on m_thread: work is posted to it
        std::shared_ptr<Writer> m_writer;
        int m_pending = 0;
    };
} // namespace Atelier

Q_DECLARE_METATYPE(Atelier::LibraryScan)
