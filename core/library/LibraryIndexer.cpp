// SPDX-License-Identifier: GPL-3.0-or-later
#include "library/LibraryIndexer.h"

#include <QThread>

using namespace Qt::StringLiterals;

namespace Atelier
{
    /// The writer thread's state. Only that thread touches it (it is created before the thread starts and
    /// destroyed after it ends).
    struct LibraryIndexer::Writer
    {
        QString path;
        std::unique_ptr<ImageLibrary> library;
        QString openError;

        /// The library, opened at the first request; nullptr (and openError set) when it cannot be.
        ImageLibrary* get()
        {
            if (!library && openError.isEmpty()) {
                library = std::make_unique<ImageLibrary>();
                openError = library->open(path);
                if (!openError.isEmpty()) {
                    library.reset();
                }
            }
            return library.get();
        }
    };

    LibraryIndexer::LibraryIndexer(const QString& libraryPath, QObject* parent)
        : QObject(parent)
        , m_thread(new QThread(this))
        , m_context(new QObject)
        , m_writer(std::make_shared<Writer>())
    {
        qRegisterMetaType<LibraryScan>();
        m_writer->path = libraryPath;
        m_thread->setObjectName(u"LibraryIndexer"_s);
        m_context->moveToThread(m_thread);
        m_thread->start(QThread::LowPriority);
    }

    LibraryIndexer::~LibraryIndexer()
    {
        // The connection must be closed on the thread that opened it, after the work already asked for: the last
        // request closes it and ends the thread (quit() alone would leave the events still queued undone).
        QMetaObject::invokeMethod(
            m_context,
            [writer = m_writer] {
                writer->library.reset();
                QThread::currentThread()->quit();
            },
            Qt::QueuedConnection);
        m_thread->wait();
        delete m_context;
    }

    void LibraryIndexer::post(std::function<Answer(ImageLibrary&)> work)
    {
        ++m_pending;
        QMetaObject::invokeMethod(
            m_context,
            [this, writer = m_writer, work = std::move(work)] {
                ImageLibrary* library = writer->get();
                Answer answer
                    = library ? work(*library) : Answer([this, error = writer->openError] { emit failed(error); });
                // Queued to this object: dropped if it is destroyed first (its destructor waits for this thread,
                // so it is alive while the event is posted).
                QMetaObject::invokeMethod(
                    this,
                    [this, answer = std::move(answer)] {
                        answer();
                        if (--m_pending == 0) {
                            emit idle();
                        }
                    },
                    Qt::QueuedConnection);
            },
            Qt::QueuedConnection);
    }

    LibraryIndexer::Answer LibraryIndexer::failure(const ImageLibrary& library)
    {
        return [this, error = library.error()] { emit failed(error); };
    }

    void LibraryIndexer::addFile(const QString& path)
    {
        post([this, path](ImageLibrary& library) -> Answer {
            if (const std::optional<qint64> id = library.addFile(path)) {
                return [this, id = *id, path] { emit indexed(id, path); };
            }
            return failure(library);
        });
    }

    void LibraryIndexer::addImage(const LibraryImage& image)
    {
        post([this, image](ImageLibrary& library) -> Answer {
            if (const std::optional<qint64> id = library.add(image)) {
                return [this, id = *id, path = image.path] { emit indexed(id, path); };
            }
            return failure(library);
        });
    }

    void LibraryIndexer::scanFolder(const QString& folder)
    {
        post([this, folder](ImageLibrary& library) -> Answer {
            if (const std::optional<LibraryScan> scan = library.scanFolder(folder)) {
                return [this, folder, scan = *scan] { emit scanned(folder, scan); };
            }
            return failure(library);
        });
    }

    void LibraryIndexer::setStarred(const QList<qint64>& ids, bool starred)
    {
        post([this, ids, starred](ImageLibrary& library) -> Answer {
            if (library.setStarred(ids, starred)) {
                return [this, ids, starred] { emit starredChanged(ids, starred); };
            }
            return failure(library);
        });
    }

    void LibraryIndexer::remove(const QList<qint64>& ids)
    {
        post([this, ids](ImageLibrary& library) -> Answer {
            if (library.remove(ids)) {
                return [this, ids] { emit removed(ids); };
            }
            return failure(library);
        });
    }
} // namespace Atelier
