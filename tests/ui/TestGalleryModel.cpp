// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "GalleryModel.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    QByteArray solidRgb(int width, int height, char red, char green, char blue)
    {
        QByteArray rgb;
        for (int i = 0; i < width * height; ++i) {
            rgb.append(red).append(green).append(blue);
        }
        return rgb;
    }

    GalleryModel::State stateAt(const GalleryModel& model, int row)
    {
        return model.index(row).data(GalleryModel::StateRole).value<GalleryModel::State>();
    }
} // namespace

class TestGalleryModel final : public QObject
{
    Q_OBJECT

private slots:
    void followsAJobFromPreviewToImage();
    void failuresAndRetries_data();
    void failuresAndRetries();
    void ignoresMalformedPreviewsAndUnknownJobs();
    void unreadableImageIsExplained();
};

void TestGalleryModel::followsAJobFromPreviewToImage()
{
    GalleryModel model;
    model.setThumbnailSize(32);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.jobStarted(7, u"a lighthouse at dusk"_s, 42);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(stateAt(model, 0), GalleryModel::State::Rendering);
    QVERIFY(model.index(0).data().toString().contains(u"a lighthouse at dusk"_s));
    QVERIFY(model.index(0).data(Qt::ToolTipRole).toString().contains(u"Seed: 42"_s));

    model.jobProgress(7, 5, 20);
    QCOMPARE(model.index(0).data(GalleryModel::ProgressRole).toDouble(), 0.25);
    QVERIFY(model.index(0).data().toString().startsWith(u"5/20"_s));

    // A red 4×4 preview fills the middle of the tile.
    model.jobPreview(7, 4, 4, solidRgb(4, 4, char(255), 0, 0));
    QImage tile = model.index(0).data(Qt::DecorationRole).value<QImage>();
    QCOMPARE(tile.size(), QSize(32, 32));
    QCOMPARE(tile.pixelColor(16, 16), QColor(255, 0, 0));

    // The finished image replaces the preview.
    QTemporaryDir dir;
    const QString path = dir.filePath(u"7-42-a-lighthouse.png"_s);
    QImage image(64, 32, QImage::Format_RGB888);
    image.fill(QColor(0, 0, 255));
    QVERIFY(image.save(path));
    model.jobFinished(7, path);
    QCOMPARE(stateAt(model, 0), GalleryModel::State::Done);
    QCOMPARE(model.index(0).data(GalleryModel::ImagePathRole).toString(), path);
    QCOMPARE(model.index(0).data(GalleryModel::ProgressRole).toDouble(), 1.0);
    tile = model.index(0).data(Qt::DecorationRole).value<QImage>();
    QCOMPARE(tile.size(), QSize(32, 32));
    QCOMPARE(tile.pixelColor(16, 16), QColor(0, 0, 255));
    // A wide image is letterboxed, not stretched.
    QCOMPARE(tile.pixelColor(16, 2).alpha(), 0);
    QCOMPARE(model.countIn(GalleryModel::State::Done), 1);
}

void TestGalleryModel::failuresAndRetries_data()
{
    QTest::addColumn<bool>("willRetry");
    QTest::addColumn<GalleryModel::State>("state");
    QTest::newRow("retried later") << true << GalleryModel::State::Rendering;
    QTest::newRow("given up") << false << GalleryModel::State::Failed;
}

void TestGalleryModel::failuresAndRetries()
{
    QFETCH(bool, willRetry);
    QFETCH(GalleryModel::State, state);
    GalleryModel model;
    model.jobStarted(1, u"a cat"_s, 3);
    model.jobFailed(1, u"worker 0 crashed"_s, willRetry);
    QCOMPARE(stateAt(model, 0), state);
    QVERIFY(model.index(0).data(Qt::ToolTipRole).toString().contains(u"worker 0 crashed"_s));
    // A retry that starts again reuses the entry.
    model.jobStarted(1, u"a cat"_s, 3);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(stateAt(model, 0), GalleryModel::State::Rendering);
    model.jobStopped(1);
    QCOMPARE(stateAt(model, 0), GalleryModel::State::Stopped);
    QVERIFY(model.index(0).data().toString().contains(u"a cat"_s));
}

void TestGalleryModel::ignoresMalformedPreviewsAndUnknownJobs()
{
    GalleryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.jobStarted(1, u"a cat"_s, 3);
    QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);
    model.jobPreview(1, 4, 4, QByteArray(10, 'x')); // too few bytes
    model.jobPreview(1, -4, 4, QByteArray());
    model.jobPreview(2, 4, 4, solidRgb(4, 4, 0, 0, 0)); // no such job
    model.jobProgress(2, 1, 2);
    model.jobFinished(2, u"/nowhere.png"_s);
    QCOMPARE(changes.size(), 0);
    QCOMPARE(model.rowCount(), 1);
}

void TestGalleryModel::unreadableImageIsExplained()
{
    GalleryModel model;
    model.jobStarted(1, u"a cat"_s, 3);
    model.jobFinished(1, u"/nonexistent/1-3-a-cat.png"_s);
    QCOMPARE(stateAt(model, 0), GalleryModel::State::Done);
    QVERIFY(model.index(0).data(Qt::ToolTipRole).toString().contains(u"cannot be read"_s));
}

QTEST_MAIN(TestGalleryModel)
#include "TestGalleryModel.moc"
