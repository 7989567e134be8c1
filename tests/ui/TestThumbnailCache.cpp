// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "ThumbnailCache.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int Timeout = 10000;

    bool writeImage(const QString& path, QSize size, QColor colour, QImage::Format format = QImage::Format_RGB32)
    {
        QImage image(size, format);
        image.fill(colour);
        return image.save(path, "PNG");
    }

    bool setModified(const QString& path, const QDateTime& when)
    {
        QFile file(path);
        return file.open(QIODevice::ReadWrite) && file.setFileTime(when, QFileDevice::FileModificationTime);
    }

    QStringList cacheFiles(const QString& folder)
    {
        return QDir(folder).entryList(QDir::Files, QDir::Name);
    }
} // namespace

class TestThumbnailCache final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void makesEachThumbnailOnce();
    void scalesToTheLongSide_data();
    void scalesToTheLongSide();
    void aChangedImageGetsANewThumbnail();
    void brokenImagesFailOnce_data();
    void brokenImagesFailOnce();
    void asksForTheSameImageOnlyOnce();
    void dropsWaitingRequests();
    void keepsTheNewestRequestsWhenTooManyWait();
    void canBeDestroyedWhileMaking();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_cache;
};

void TestThumbnailCache::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_cache = m_dir->filePath(u"cache/thumbnails"_s);
}

void TestThumbnailCache::makesEachThumbnailOnce()
{
    const QString path = m_dir->filePath(u"a.png"_s);
    QVERIFY(writeImage(path, {600, 400}, Qt::darkCyan));
    {
        ThumbnailCache cache(m_cache, 256);
        QSignalSpy ready(&cache, &ThumbnailCache::ready);
        QVERIFY(cache.request(path).isNull());
        QCOMPARE(cache.state(path), ThumbnailCache::State::Pending);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, Timeout);
        QCOMPARE(ready.first().first().toString(), path);
        QCOMPARE(cache.state(path), ThumbnailCache::State::Ready);
        const QImage thumbnail = cache.request(path);
        QCOMPARE(thumbnail.size(), QSize(256, 170));
        QCOMPARE(cache.stats().generated, 1);
        QCOMPARE(cacheFiles(m_cache).size(), 1);
        QVERIFY(cacheFiles(m_cache).first().endsWith(u".jpg"_s));
        QCOMPARE(cache.pendingCount(), 0);
    }
    // A new session reads it from the cache folder rather than making it again.
    const QDateTime written = QFileInfo(QDir(m_cache).filePath(cacheFiles(m_cache).first())).lastModified();
    ThumbnailCache again(m_cache, 256);
    QSignalSpy ready(&again, &ThumbnailCache::ready);
    QVERIFY(again.request(path).isNull());
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, Timeout);
    QCOMPARE(again.request(path).size(), QSize(256, 170));
    QCOMPARE(again.stats().generated, 0);
    QCOMPARE(again.stats().loadedFromDisk, 1);
    QCOMPARE(cacheFiles(m_cache).size(), 1);
    QCOMPARE(QFileInfo(QDir(m_cache).filePath(cacheFiles(m_cache).first())).lastModified(), written);
}

void TestThumbnailCache::scalesToTheLongSide_data()
{
    QTest::addColumn<QSize>("image");
    QTest::addColumn<int>("side");
    QTest::addColumn<QSize>("thumbnail");
    QTest::addColumn<QString>("suffix");

    QTest::newRow("landscape") << QSize(512, 256) << 128 << QSize(128, 64) << u".jpg"_s;
    QTest::newRow("portrait") << QSize(256, 512) << 128 << QSize(64, 128) << u".jpg"_s;
    QTest::newRow("small: kept as is") << QSize(64, 48) << 256 << QSize(64, 48) << u".jpg"_s;
    QTest::newRow("transparent: PNG") << QSize(300, 300) << 100 << QSize(100, 100) << u".png"_s;
}

void TestThumbnailCache::scalesToTheLongSide()
{
    QFETCH(QSize, image);
    QFETCH(int, side);
    QFETCH(QSize, thumbnail);
    QFETCH(QString, suffix);
    const QString path = m_dir->filePath(u"image.png"_s);
    const bool transparent = suffix == u".png"_s;
    QVERIFY(writeImage(path, image, transparent ? QColor(255, 0, 0, 100) : QColor(Qt::red),
                       transparent ? QImage::Format_ARGB32 : QImage::Format_RGB32));
    ThumbnailCache cache(m_cache, side);
    QSignalSpy ready(&cache, &ThumbnailCache::ready);
    cache.request(path);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, Timeout);
    QCOMPARE(cache.request(path).size(), thumbnail);
    QCOMPARE(cache.request(path).hasAlphaChannel(), transparent);
    QVERIFY(cacheFiles(m_cache).first().endsWith(suffix));
}

void TestThumbnailCache::aChangedImageGetsANewThumbnail()
{
    const QString path = m_dir->filePath(u"a.png"_s);
    QVERIFY(writeImage(path, {100, 100}, Qt::red));
    const QDateTime first = QFileInfo(path).lastModified();
    ThumbnailCache cache(m_cache);
    QSignalSpy ready(&cache, &ThumbnailCache::ready);
    cache.request(path);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, Timeout);
    QVERIFY(QColor(cache.request(path).pixel(50, 50)).red() > 240);

    QVERIFY(writeImage(path, {100, 100}, Qt::blue));
    QVERIFY(setModified(path, first.addSecs(60)));
    cache.invalidate(path);
    QCOMPARE(cache.state(path), ThumbnailCache::State::None);
    QVERIFY(cache.request(path).isNull());
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, Timeout);
    QVERIFY(QColor(cache.request(path).pixel(50, 50)).blue() > 240);
    QCOMPARE(cache.stats().generated, 2);
    QCOMPARE(cacheFiles(m_cache).size(), 2); // the old one is another image's, as far as the cache knows
}

void TestThumbnailCache::brokenImagesFailOnce_data()
{
    QTest::addColumn<QByteArray>("bytes"); // empty: no file at all
    QTest::addColumn<QString>("reason");

    QTest::newRow("missing") << QByteArray() << u"no such file"_s;
    QTest::newRow("not an image") << QByteArray("Steps: 20, Sampler: Euler a") << u"broken.png"_s;
    QTest::newRow("truncated PNG") << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16) << u"broken.png"_s;
}

void TestThumbnailCache::brokenImagesFailOnce()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, reason);
    const QString path = m_dir->filePath(u"broken.png"_s);
    if (!bytes.isEmpty()) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(bytes);
    }
    ThumbnailCache cache(m_cache);
    QSignalSpy failed(&cache, &ThumbnailCache::failed);
    QSignalSpy ready(&cache, &ThumbnailCache::ready);
    QVERIFY(cache.request(path).isNull());
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, Timeout);
    QCOMPARE(cache.state(path), ThumbnailCache::State::Failed);
    QVERIFY2(cache.failure(path).contains(reason), qPrintable(cache.failure(path)));
    QVERIFY2(cache.failure(path).startsWith(path), qPrintable(cache.failure(path)));
    // Asked again (a view repaints the row): not tried again.
    for (int i = 0; i < 10; ++i) {
        QVERIFY(cache.request(path).isNull());
    }
    QCOMPARE(cache.pendingCount(), 0);
    QTest::qWait(50);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(ready.count(), 0);
    QVERIFY(cacheFiles(m_cache).isEmpty());
}

void TestThumbnailCache::asksForTheSameImageOnlyOnce()
{
    const QString path = m_dir->filePath(u"a.png"_s);
    QVERIFY(writeImage(path, {300, 300}, Qt::green));
    ThumbnailCache cache(m_cache);
    QSignalSpy ready(&cache, &ThumbnailCache::ready);
    for (int i = 0; i < 20; ++i) {
        cache.request(path);
    }
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, Timeout);
    QTest::qWait(50);
    QCOMPARE(ready.count(), 1);
    QCOMPARE(cache.stats().generated, 1);
}

void TestThumbnailCache::dropsWaitingRequests()
{
    QStringList paths;
    for (int i = 0; i < 12; ++i) {
        paths.append(m_dir->filePath(u"%1.png"_s.arg(i)));
        QVERIFY(writeImage(paths.last(), {400, 400}, QColor::fromHsv(i * 30, 200, 200)));
    }
    ThumbnailCache cache(m_cache);
    cache.setMaxConcurrentJobs(1);
    for (const QString& path : paths) {
        cache.request(path);
    }
    cache.cancel(paths.at(5));
    QCOMPARE(cache.state(paths.at(5)), ThumbnailCache::State::None);
    cache.cancelWaiting();
    QTRY_COMPARE_WITH_TIMEOUT(cache.pendingCount(), 0, Timeout);
    QCOMPARE(cache.stats().generated, 1); // the one being made when the rest were dropped
    QCOMPARE(cache.state(paths.first()), ThumbnailCache::State::Ready);
    for (qsizetype i = 1; i < paths.size(); ++i) {
        QCOMPARE(cache.state(paths.at(i)), ThumbnailCache::State::None);
    }
}

void TestThumbnailCache::keepsTheNewestRequestsWhenTooManyWait()
{
    QStringList paths;
    for (int i = 0; i < 10; ++i) {
        paths.append(m_dir->filePath(u"%1.png"_s.arg(i)));
        QVERIFY(writeImage(paths.last(), {200, 200}, QColor::fromHsv(i * 30, 200, 200)));
    }
    ThumbnailCache cache(m_cache);
    cache.setMaxConcurrentJobs(1);
    cache.setMaxWaiting(3);
    for (const QString& path : paths) {
        cache.request(path);
    }
    QTRY_COMPARE_WITH_TIMEOUT(cache.pendingCount(), 0, Timeout);
    QCOMPARE(cache.stats().generated, 4);
    // The first was started at once; of the rest only the last three asked for were still wanted.
    for (const int made : {0, 7, 8, 9}) {
        QCOMPARE(cache.state(paths.at(made)), ThumbnailCache::State::Ready);
    }
}

void TestThumbnailCache::canBeDestroyedWhileMaking()
{
    QStringList paths;
    for (int i = 0; i < 8; ++i) {
        paths.append(m_dir->filePath(u"%1.png"_s.arg(i)));
        QVERIFY(writeImage(paths.last(), {1024, 1024}, Qt::gray));
    }
    auto cache = std::make_unique<ThumbnailCache>(m_cache);
    for (const QString& path : paths) {
        cache->request(path);
    }
    cache.reset();
    QTest::qWait(50); // results posted to the destroyed cache are dropped, not delivered
}

QTEST_MAIN(TestThumbnailCache)
#include "TestThumbnailCache.moc"
