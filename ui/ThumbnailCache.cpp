// SPDX-License-Identifier: GPL-3.0-or-later
#include "ThumbnailCache.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QImageWriter>
#include <QSaveFile>
#include <QStandardPaths>
#include <QThread>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        qsizetype costOf(const QImage& image)
        {
            return std::max<qsizetype>(1, image.sizeInBytes());
        }

        bool canWriteJpeg()
        {
            static const bool can = QImageWriter::supportedImageFormats().contains("jpeg");
            return can;
        }
    } // namespace

    ThumbnailCache::ThumbnailCache(const QString& folder, int side, QObject* parent)
        : QObject(parent)
        , m_folder(folder)
        , m_side(std::max(side, 1))
        , m_maxJobs(std::clamp(QThread::idealThreadCount() - 1, 1, 4))
    {
        m_memory.setMaxCost(64 * 1024 * 1024);
        m_pool.setMaxThreadCount(m_maxJobs);
    }

    ThumbnailCache::~ThumbnailCache()
    {
        m_waiting.clear();
        m_pool.clear();
        // A job's result is posted to this object; once the jobs are done, destroying it discards those posts.
        m_pool.waitForDone();
    }

    QString ThumbnailCache::defaultFolder()
    {
        return QDir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)).filePath(u"thumbnails"_s);
    }

    void ThumbnailCache::setMaxConcurrentJobs(int jobs)
    {
        m_maxJobs = std::max(jobs, 1);
        m_pool.setMaxThreadCount(m_maxJobs);
        startWaiting();
    }

    void ThumbnailCache::setMemoryBudget(qint64 bytes)
    {
        m_memory.setMaxCost(std::max<qint64>(bytes, 1));
    }

    void ThumbnailCache::setMaxWaiting(int requests)
    {
        m_maxWaiting = std::max(requests, 1);
    }

    QImage ThumbnailCache::request(const QString& path)
    {
        if (const QImage* image = m_memory.object(path)) {
            return *image;
        }
        if (m_failures.contains(path) || m_running.contains(path)) {
            return {};
        }
        // Last in, first made: what the view asked for last is what is on screen now.
        m_waiting.removeOne(path);
        m_waiting.append(path);
        if (m_waiting.size() > m_maxWaiting) {
            m_waiting.removeFirst();
        }
        startWaiting();
        return {};
    }

    ThumbnailCache::State ThumbnailCache::state(const QString& path) const
    {
        if (m_memory.contains(path)) {
            return State::Ready;
        }
        if (m_failures.contains(path)) {
            return State::Failed;
        }
        if (m_running.contains(path) || m_waiting.contains(path)) {
            return State::Pending;
        }
        return State::None;
    }

    QString ThumbnailCache::failure(const QString& path) const
    {
        return m_failures.value(path);
    }

    void ThumbnailCache::cancel(const QString& path)
    {
        m_waiting.removeOne(path);
    }

    void ThumbnailCache::cancelWaiting()
    {
        m_waiting.clear();
    }

    void ThumbnailCache::invalidate(const QString& path)
    {
        m_memory.remove(path);
        m_failures.remove(path);
        if (m_running.contains(path)) {
            m_invalidated.insert(path);
        }
    }

    void ThumbnailCache::startWaiting()
    {
        while (m_running.size() < m_maxJobs && !m_waiting.isEmpty()) {
            const QString path = m_waiting.takeLast();
            m_running.insert(path);
            m_pool.start([this, path, folder = m_folder, side = m_side] {
                const Result result = make(path, folder, side);
                QMetaObject::invokeMethod(
                    this, [this, path, result] { finished(path, result); }, Qt::QueuedConnection);
            });
        }
    }

    void ThumbnailCache::finished(const QString& path, const Result& result)
    {
        m_running.remove(path);
        if (m_invalidated.remove(path)) {
            // The file changed while this was made: make it again from what is there now.
            m_waiting.append(path);
            startWaiting();
            return;
        }
        if (result.image.isNull()) {
            ++m_stats.failed;
            m_failures.insert(path, result.error);
            startWaiting();
            emit failed(path, result.error);
            return;
        }
        ++(result.fromDisk ? m_stats.loadedFromDisk : m_stats.generated);
        m_memory.insert(path, new QImage(result.image), costOf(result.image));
        startWaiting();
        emit ready(path);
    }

    ThumbnailCache::Result ThumbnailCache::make(const QString& path, const QString& folder, int side)
    {
        Result result;
        const QFileInfo info(path);
        if (!info.isFile()) {
            result.error = u"%1: %2"_s.arg(path, info.exists() ? u"not a regular file"_s : u"no such file"_s);
            return result;
        }
        const QByteArray identity = QFile::encodeName(QDir::cleanPath(info.absoluteFilePath())) + '\n'
            + QByteArray::number(info.size()) + '\n' + QByteArray::number(info.lastModified().toMSecsSinceEpoch())
            + '\n' + QByteArray::number(side);
        const QString name = QString::fromLatin1(QCryptographicHash::hash(identity, QCryptographicHash::Sha1).toHex());
        const QDir dir(folder);
        for (const QString& suffix : {u".jpg"_s, u".png"_s}) {
            const QString cached = dir.filePath(name + suffix);
            if (QFileInfo::exists(cached)) {
                QImage image(cached);
                if (!image.isNull()) {
                    result.image = image;
                    result.fromDisk = true;
                    return result;
                }
            }
        }

        QImageReader reader(path);
        reader.setAutoTransform(true);
        QImage image = reader.read();
        if (image.isNull()) {
            result.error = u"%1: %2"_s.arg(path, reader.errorString());
            return result;
        }
        if (image.width() > side || image.height() > side) {
            image = image.scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
        }
        // JPEG is a tenth the size of PNG for a picture and as good at this size; PNG keeps transparency.
        const bool jpeg = !image.hasAlphaChannel() && canWriteJpeg();
        image = image.convertToFormat(jpeg ? QImage::Format_RGB32 : QImage::Format_ARGB32_Premultiplied);
        result.image = image;
        // Written whole or not at all, so that another process never reads half a thumbnail. A cache folder that
        // cannot be written costs only the time to make it again next session.
        if (QDir().mkpath(folder)) {
            QSaveFile file(dir.filePath(name + (jpeg ? u".jpg"_s : u".png"_s)));
            if (file.open(QIODevice::WriteOnly) && image.save(&file, jpeg ? "JPEG" : "PNG", jpeg ? 85 : -1)) {
                file.commit();
            }
        }
        return result;
    }
} // namespace Atelier
