// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAction>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>
#include <QToolBar>
#include <QWheelEvent>

#include <memory>

#include "ImageViewer.h"
#include "LibraryModel.h"
#include "ThumbnailCache.h"
#include "library/ImageLibrary.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int Timeout = 10000;
    const qint64 Start = QDateTime(QDate(2024, 5, 1), QTime(12, 0), QTimeZone::utc()).toMSecsSinceEpoch();

    /// A one-pixel checkerboard of @p a and @p b: any smoothing blends neighbours into a colour of neither.
    QImage checkerboard(QSize size, QRgb a, QRgb b)
    {
        QImage image(size, QImage::Format_RGB32);
        for (int y = 0; y < size.height(); ++y) {
            auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
            for (int x = 0; x < size.width(); ++x) {
                line[x] = (x + y) % 2 ? a : b;
            }
        }
        return image;
    }

    RenderSettings promptOnly(const QString& prompt)
    {
        RenderSettings settings;
        settings.prompt = prompt;
        return settings;
    }

    constexpr QRgb Dark = 0xff102030;
    constexpr QRgb Light = 0xffe0c0a0;
} // namespace

class TestImageViewer final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void showsTheImageAndItsParameters_data();
    void showsTheImageAndItsParameters();
    void omitsWhatTheImageDoesNotSay();
    void keysStepThroughTheRows_data();
    void keysStepThroughTheRows();
    void steppingOnPagesInMoreRows();
    void fitsOrShowsActualPixels_data();
    void fitsOrShowsActualPixels();
    void enlargesWithoutSmoothingAndShrinksSmoothly();
    void staysFitWhenResized();
    void zoomStepsWithinBounds_data();
    void zoomStepsWithinBounds();
    void ctrlWheelZoomsAroundTheCursor();
    void showsOnlyTheImageAskedForLast();
    void unreadableFileShowsAMessage_data();
    void unreadableFileShowsAMessage();
    void followsRemovedRows_data();
    void followsRemovedRows();
    void keepsItsImageWhenOneArrivesAbove();
    void keepsItsImageThroughAReset();
    void settlesOnItsPlaceWhenAResetDropsItsImage();
    void closesWhenTheModelIsEmpty_data();
    void closesWhenTheModelIsEmpty();
    void offersTheImageActions();
    void escapeClosesAndShowRowReopens();

private:
    /// Writes @p name (a checkerboard of @p size) and indexes it as made at @p minute with @p settings.
    qint64 addImage(const QString& name, QSize size, const RenderSettings& settings, qint64 minute,
                    const QString& model = u"sd15"_s, const QString& device = {});
    /// The three images most tests use: row 0 "big.png" (1600×1024), row 1 "small.png" (64×48), row 2 "bare.png"
    /// (300×200, with a prompt and nothing else).
    void addStandardImages();
    /// @p count rows whose files are not there (a cheap library of many rows), made at minutes 0… (the oldest).
    void addPhantoms(int count);
    /// A model of the library, its first page loaded, and a viewer shown on @p row with its file read.
    void openViewer(int row);
    QString field(const char* name) const;
    QWidget* canvas() const;
    QScrollArea* scrollArea() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ImageLibrary> m_library;
    std::unique_ptr<ThumbnailCache> m_thumbnails;
    std::unique_ptr<LibraryModel> m_model;
    std::unique_ptr<ImageViewer> m_viewer;
    QHash<QString, qint64> m_ids; ///< by file name
};

void TestImageViewer::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_library = std::make_unique<ImageLibrary>();
    QCOMPARE(m_library->open(m_dir->filePath(u"library.sqlite"_s)), QString());
    m_thumbnails = std::make_unique<ThumbnailCache>(m_dir->filePath(u"thumbnails"_s), 64);
    m_ids.clear();
}

void TestImageViewer::cleanup()
{
    m_viewer.reset();
    m_model.reset();
    m_thumbnails.reset();
    m_library.reset();
    m_dir.reset();
}

qint64 TestImageViewer::addImage(const QString& name, QSize size, const RenderSettings& settings, qint64 minute,
                                 const QString& model, const QString& device)
{
    const QString path = m_dir->filePath(name);
    if (!checkerboard(size, Dark, Light).save(path)) {
        qWarning("cannot write %s", qPrintable(path));
        return -1;
    }
    LibraryImage image;
    image.path = path;
    image.settings = settings;
    image.modelName = model;
    image.device = device;
    image.pixelWidth = size.width();
    image.pixelHeight = size.height();
    image.created = Start + minute * 60000;
    const std::optional<qint64> id = m_library->add(image);
    m_ids.insert(name, id.value_or(-1));
    return id.value_or(-1);
}

void TestImageViewer::addStandardImages()
{
    QVERIFY(addImage(u"bare.png"_s, {300, 200}, promptOnly(u"a quiet harbour"_s), 1000) > 0);
    QVERIFY(addImage(u"small.png"_s, {64, 48},
                     RenderSettings{u"a red fox in snow"_s, u"blurry"_s, 42, 20, 7.5, 64, 48, u"dpmpp_2m"_s}, 1001)
            > 0);
    // Rendered at 800×512 and upscaled; the prompt holds what a label would take for markup.
    QVERIFY(addImage(u"big.png"_s, {1600, 1024},
                     RenderSettings{u"a lighthouse at dusk, <lora:film:0.8> & <b>fog</b>"_s, u"lowres"_s, 1234567890123,
                                    30, 6.5, 800, 512, u"euler_a"_s},
                     1002, u"dreamshaper"_s, u"cuda:1"_s)
            > 0);
}

void TestImageViewer::addPhantoms(int count)
{
    for (int i = 0; i < count; ++i) {
        LibraryImage image;
        image.path = m_dir->filePath(u"phantom-%1.png"_s.arg(i));
        image.settings.prompt = u"phantom %1"_s.arg(i);
        image.created = Start + i * 60000;
        image.fileSize = 100; // not read from the file, which is not there
        image.fileModified = image.created;
        QVERIFY(m_library->add(image));
    }
}

void TestImageViewer::openViewer(int row)
{
    m_model = std::make_unique<LibraryModel>(*m_library, *m_thumbnails);
    m_model->fetchMore({});
    m_viewer = std::make_unique<ImageViewer>(m_model.get());
    m_viewer->resize(900, 600);
    m_viewer->show();
    QVERIFY(QTest::qWaitForWindowActive(m_viewer.get()));
    m_viewer->showRow(row);
    QCOMPARE(m_viewer->currentRow(), row);
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isLoading(), Timeout);
}

QString TestImageViewer::field(const char* name) const
{
    const auto* label = m_viewer->findChild<QLabel*>(QLatin1StringView(name));
    return label ? label->text() : u"(no label %1)"_s.arg(QLatin1StringView(name));
}

QWidget* TestImageViewer::canvas() const
{
    return m_viewer->findChild<QWidget*>(u"imageCanvas"_s);
}

QScrollArea* TestImageViewer::scrollArea() const
{
    return m_viewer->findChild<QScrollArea*>(u"imageScrollArea"_s);
}

void TestImageViewer::showsTheImageAndItsParameters_data()
{
    QTest::addColumn<int>("row");
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QSize>("pixels");
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("negativePrompt");
    QTest::addColumn<QString>("seed");
    QTest::addColumn<QString>("steps");
    QTest::addColumn<QString>("cfgScale");
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<QString>("size");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("device");

    QTest::newRow("upscaled, markup in the prompt")
        << 0 << u"big.png"_s << QSize(1600, 1024) << u"a lighthouse at dusk, <lora:film:0.8> & <b>fog</b>"_s
        << u"lowres"_s << u"1234567890123"_s << u"30"_s << u"6.5"_s << u"Euler a"_s << u"800×512 (file: 1600×1024)"_s
        << u"dreamshaper"_s << u"cuda:1"_s;
    QTest::newRow("small") << 1 << u"small.png"_s << QSize(64, 48) << u"a red fox in snow"_s << u"blurry"_s << u"42"_s
                           << u"20"_s << u"7.5"_s << u"DPM++ 2M"_s << u"64×48"_s << u"sd15"_s << QString();
}

void TestImageViewer::showsTheImageAndItsParameters()
{
    QFETCH(int, row);
    QFETCH(QString, fileName);
    QFETCH(QSize, pixels);
    addStandardImages();
    openViewer(row);

    QCOMPARE(m_viewer->currentId(), m_ids.value(fileName));
    QCOMPARE(m_viewer->imageSize(), pixels);
    QCOMPARE(m_viewer->errorMessage(), QString());
    QCOMPARE(m_viewer->windowTitle(), u"%1 – %2 of 3"_s.arg(fileName).arg(row + 1));

    QTEST(field("promptValue"), "prompt");
    QTEST(field("negativePromptValue"), "negativePrompt");
    QTEST(field("seedValue"), "seed");
    QTEST(field("stepsValue"), "steps");
    QTEST(field("cfgScaleValue"), "cfgScale");
    QTEST(field("samplerValue"), "sampler");
    QTEST(field("sizeValue"), "size");
    QTEST(field("modelValue"), "model");
    QTEST(field("deviceValue"), "device");
    QCOMPARE(field("pathValue"), QDir::toNativeSeparators(m_dir->filePath(fileName)));
    QCOMPARE(field("createdValue"),
             QLocale().toString(QDateTime::fromMSecsSinceEpoch(m_model->imageAt(row).created), QLocale::ShortFormat));
    QFETCH(QString, device);
    QCOMPARE(m_viewer->findChild<QLabel*>(u"deviceValue"_s)->isHidden(), device.isEmpty());

    // The whole infotext, as "copy parameters" gives it.
    const auto* infotext = m_viewer->findChild<QPlainTextEdit*>(u"infotextView"_s);
    QVERIFY(infotext && infotext->isReadOnly());
    QCOMPARE(infotext->toPlainText(), m_model->imageAt(row).infotext());
    QFETCH(QString, prompt);
    QFETCH(QString, seed);
    QVERIFY(infotext->toPlainText().startsWith(prompt + u'\n'));
    QVERIFY(infotext->toPlainText().contains(u"Seed: "_s + seed));
}

void TestImageViewer::omitsWhatTheImageDoesNotSay()
{
    addStandardImages();
    openViewer(2);
    QCOMPARE(field("promptValue"), u"a quiet harbour"_s);
    QCOMPARE(field("sizeValue"), u"300×200"_s); // the file's own
    for (const char* name :
         {"negativePromptValue", "seedValue", "stepsValue", "cfgScaleValue", "samplerValue", "deviceValue"}) {
        const auto* label = m_viewer->findChild<QLabel*>(QLatin1StringView(name));
        QVERIFY2(label && label->isHidden() && label->text().isEmpty(), name);
    }
    QVERIFY(!m_viewer->findChild<QLabel*>(u"promptValue"_s)->isHidden());

    // And back on an image that says them: the rows come back.
    m_viewer->showRow(1);
    QVERIFY(!m_viewer->findChild<QLabel*>(u"seedValue"_s)->isHidden());
    QCOMPARE(field("seedValue"), u"42"_s);
}

void TestImageViewer::keysStepThroughTheRows_data()
{
    QTest::addColumn<int>("key");
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");

    QTest::newRow("Right") << int(Qt::Key_Right) << 0 << 1;
    QTest::newRow("PageDown") << int(Qt::Key_PageDown) << 1 << 2;
    QTest::newRow("Left") << int(Qt::Key_Left) << 2 << 1;
    QTest::newRow("PageUp") << int(Qt::Key_PageUp) << 1 << 0;
    QTest::newRow("Home") << int(Qt::Key_Home) << 2 << 0;
    QTest::newRow("End") << int(Qt::Key_End) << 0 << 2;
    QTest::newRow("Left on the first") << int(Qt::Key_Left) << 0 << 0;
    QTest::newRow("Right on the last") << int(Qt::Key_Right) << 2 << 2;
}

void TestImageViewer::keysStepThroughTheRows()
{
    QFETCH(int, key);
    QFETCH(int, from);
    QFETCH(int, to);
    addStandardImages();
    openViewer(from);
    QSignalSpy changed(m_viewer.get(), &ImageViewer::currentRowChanged);

    QTest::keyClick(m_viewer.get(), Qt::Key(key));
    QCOMPARE(m_viewer->currentRow(), to);
    QCOMPARE(m_viewer->currentId(), m_model->imageAt(to).id);
    if (from == to) {
        QCOMPARE(changed.count(), 0);
    } else {
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(0).toInt(), to);
    }
    QCOMPARE(field("promptValue"), m_model->imageAt(to).settings.prompt);
    QVERIFY2(m_viewer->windowTitle().endsWith(u"%1 of 3"_s.arg(to + 1)), qPrintable(m_viewer->windowTitle()));
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isLoading(), Timeout);
    QCOMPARE(m_viewer->imageSize(), QSize(m_model->imageAt(to).pixelWidth, m_model->imageAt(to).pixelHeight));
}

void TestImageViewer::steppingOnPagesInMoreRows()
{
    addStandardImages();
    addPhantoms(LibraryModel::PageSize + 50);
    const int total = LibraryModel::PageSize + 53;
    openViewer(LibraryModel::PageSize - 1);
    QCOMPARE(m_model->rowCount(), LibraryModel::PageSize);
    QVERIFY(m_model->canFetchMore({}));
    QSignalSpy changed(m_viewer.get(), &ImageViewer::currentRowChanged);

    QTest::keyClick(m_viewer.get(), Qt::Key_Right);
    QCOMPARE(m_model->rowCount(), total);
    QCOMPARE(m_viewer->currentRow(), LibraryModel::PageSize);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toInt(), LibraryModel::PageSize);
    QVERIFY(m_viewer->windowTitle().endsWith(u"%1 of %2"_s.arg(LibraryModel::PageSize + 1).arg(total)));

    // End goes to the very last image, not the last loaded one.
    m_model = std::make_unique<LibraryModel>(*m_library, *m_thumbnails);
    m_model->fetchMore({});
    m_viewer = std::make_unique<ImageViewer>(m_model.get());
    m_viewer->show();
    QVERIFY(QTest::qWaitForWindowActive(m_viewer.get()));
    m_viewer->showRow(0);
    QTest::keyClick(m_viewer.get(), Qt::Key_End);
    QCOMPARE(m_model->rowCount(), total);
    QCOMPARE(m_viewer->currentRow(), total - 1);
    QCOMPARE(field("promptValue"), u"phantom 0"_s);
}

void TestImageViewer::fitsOrShowsActualPixels_data()
{
    QTest::addColumn<int>("row");
    QTest::addColumn<QSize>("pixels");
    QTest::newRow("larger than the window") << 0 << QSize(1600, 1024);
    QTest::newRow("smaller than the window") << 1 << QSize(64, 48);
}

void TestImageViewer::fitsOrShowsActualPixels()
{
    QFETCH(int, row);
    QFETCH(QSize, pixels);
    addStandardImages();
    openViewer(row);
    const QWidget* viewport = scrollArea()->viewport();
    const bool larger = pixels.width() > viewport->width() || pixels.height() > viewport->height();
    QVERIFY(larger == (row == 0));

    // Fit by default: all of it in the window, as large as fits, never enlarged.
    QVERIFY(m_viewer->isFit());
    QSize shown = canvas()->size();
    QVERIFY2(
        shown.width() <= viewport->width() && shown.height() <= viewport->height(),
        qPrintable(
            u"%1×%2 in %3×%4"_s.arg(shown.width()).arg(shown.height()).arg(viewport->width()).arg(viewport->height())));
    if (larger) {
        QVERIFY(shown.width() >= viewport->width() - 1 || shown.height() >= viewport->height() - 1);
        QVERIFY(qAbs(double(shown.width()) / shown.height() - double(pixels.width()) / pixels.height()) < 0.01);
        QVERIFY(m_viewer->zoomFactor() < 1);
    } else {
        QCOMPARE(shown, pixels);
        QCOMPARE(m_viewer->zoomFactor(), 1.0);
    }
    const auto* zoomLabel = m_viewer->findChild<QLabel*>(u"zoomLabel"_s);
    QCOMPARE(zoomLabel->text(), u"Fit (%1 %)"_s.arg(qRound(m_viewer->zoomFactor() * 100)));
    QCOMPARE(scrollArea()->horizontalScrollBar()->maximum(), 0);

    // 100 %: one screen pixel per image pixel, exactly the file's.
    QTest::keyClick(m_viewer.get(), Qt::Key_1);
    QVERIFY(!m_viewer->isFit());
    QCOMPARE(m_viewer->zoomFactor(), 1.0);
    QCOMPARE(canvas()->size(), pixels);
    QCOMPARE(zoomLabel->text(), u"100 %"_s);
    QCOMPARE(scrollArea()->horizontalScrollBar()->maximum() > 0, larger);
    const QImage painted = canvas()->grab().toImage();
    const QImage file(m_model->imageAt(row).path);
    for (const QPoint at :
         {QPoint(0, 0), QPoint(1, 0), QPoint(33, 17), QPoint(pixels.width() - 1, pixels.height() - 1)}) {
        QCOMPARE(painted.pixel(at), file.pixel(at));
    }

    QTest::keyClick(m_viewer.get(), Qt::Key_F);
    QVERIFY(m_viewer->isFit());
    QCOMPARE(canvas()->size(), shown);
    // Ctrl+0 is 100 % too.
    QTest::keyClick(m_viewer.get(), Qt::Key_0, Qt::ControlModifier);
    QCOMPARE(canvas()->size(), pixels);
}

void TestImageViewer::enlargesWithoutSmoothingAndShrinksSmoothly()
{
    addStandardImages();
    openViewer(1);
    m_viewer->setZoomFactor(2);
    QCOMPARE(canvas()->size(), QSize(128, 96));
    QImage painted = canvas()->grab().toImage();
    for (const QPoint at : {QPoint(0, 0), QPoint(1, 0), QPoint(10, 7), QPoint(63, 47)}) {
        const QRgb expected = (at.x() + at.y()) % 2 ? Dark : Light;
        for (const QPoint inside : {QPoint(0, 0), QPoint(1, 0), QPoint(0, 1), QPoint(1, 1)}) {
            QCOMPARE(painted.pixel(at * 2 + inside), expected);
        }
    }

    // Shrunk, the checkerboard averages to one colour between its two, not one of them picked.
    m_viewer->setZoomFactor(0.5);
    QCOMPARE(canvas()->size(), QSize(32, 24));
    painted = canvas()->grab().toImage();
    const QRgb middle = painted.pixel(16, 12);
    QVERIFY2(qAbs(qRed(middle) - (qRed(Dark) + qRed(Light)) / 2) < 24, qPrintable(QString::number(middle, 16)));
    QVERIFY(qAbs(qGreen(middle) - (qGreen(Dark) + qGreen(Light)) / 2) < 24);
}

void TestImageViewer::staysFitWhenResized()
{
    addStandardImages();
    openViewer(0);
    const double before = m_viewer->zoomFactor();
    m_viewer->resize(700, 450);
    const QWidget* viewport = scrollArea()->viewport();
    QTRY_VERIFY_WITH_TIMEOUT(
        canvas()->width() <= viewport->width() && canvas()->height() <= viewport->height()
            && (canvas()->width() >= viewport->width() - 1 || canvas()->height() >= viewport->height() - 1),
        Timeout);
    QVERIFY(m_viewer->isFit());
    QVERIFY(m_viewer->zoomFactor() < before);

    // Once zoomed, a resize leaves the zoom alone.
    m_viewer->setZoomFactor(0.5);
    m_viewer->resize(900, 600);
    QTRY_COMPARE_WITH_TIMEOUT(viewport->width() > 500, true, Timeout);
    QCOMPARE(m_viewer->zoomFactor(), 0.5);
    QCOMPARE(canvas()->size(), QSize(800, 512));
}

void TestImageViewer::zoomStepsWithinBounds_data()
{
    QTest::addColumn<double>("from");
    QTest::addColumn<int>("key");
    QTest::addColumn<double>("to");
    QTest::addColumn<QString>("label");

    QTest::newRow("+ from 100 %") << 1.0 << int(Qt::Key_Plus) << 1.25 << u"125 %"_s;
    QTest::newRow("= from 100 %") << 1.0 << int(Qt::Key_Equal) << 1.25 << u"125 %"_s;
    QTest::newRow("- from 100 %") << 1.0 << int(Qt::Key_Minus) << 0.8 << u"80 %"_s;
    QTest::newRow("+ from 200 %") << 2.0 << int(Qt::Key_Plus) << 2.5 << u"250 %"_s;
    QTest::newRow("+ near the top") << 30.0 << int(Qt::Key_Plus) << ImageViewer::MaxZoom << u"3200 %"_s;
    QTest::newRow("+ at the top") << ImageViewer::MaxZoom << int(Qt::Key_Plus) << ImageViewer::MaxZoom << u"3200 %"_s;
    QTest::newRow("- near the bottom") << 0.06 << int(Qt::Key_Minus) << ImageViewer::MinZoom << u"5 %"_s;
    QTest::newRow("- at the bottom") << ImageViewer::MinZoom << int(Qt::Key_Minus) << ImageViewer::MinZoom << u"5 %"_s;
}

void TestImageViewer::zoomStepsWithinBounds()
{
    QFETCH(double, from);
    QFETCH(int, key);
    QFETCH(double, to);
    addStandardImages();
    openViewer(1);
    m_viewer->setZoomFactor(from);
    QCOMPARE(m_viewer->zoomFactor(), from);
    QTest::keyClick(m_viewer.get(), Qt::Key(key));
    QVERIFY(!m_viewer->isFit());
    QCOMPARE(m_viewer->zoomFactor(), to);
    QTEST(m_viewer->findChild<QLabel*>(u"zoomLabel"_s)->text(), "label");
    QCOMPARE(canvas()->size(), (QSizeF(64, 48) * to).toSize());
}

void TestImageViewer::ctrlWheelZoomsAroundTheCursor()
{
    addStandardImages();
    openViewer(0);
    m_viewer->setZoomFactor(1);
    QWidget* viewport = scrollArea()->viewport();
    const QPoint cursor(120, 90);
    const QPointF before = QPointF(canvas()->mapFrom(viewport, cursor)) / m_viewer->zoomFactor();
    auto wheel = [&](int delta, Qt::KeyboardModifiers modifiers) {
        QWheelEvent event(cursor, viewport->mapToGlobal(cursor), {}, {0, delta}, Qt::NoButton, modifiers,
                          Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(viewport, &event);
    };

    wheel(120, Qt::ControlModifier);
    QCOMPARE(m_viewer->zoomFactor(), 1.25);
    // The image pixel under the cursor stays under it.
    const QPointF after = QPointF(canvas()->mapFrom(viewport, cursor)) / m_viewer->zoomFactor();
    QVERIFY2((after - before).manhattanLength() < 2,
             qPrintable(u"(%1, %2) → (%3, %4)"_s.arg(before.x()).arg(before.y()).arg(after.x()).arg(after.y())));
    wheel(-240, Qt::ControlModifier);
    QCOMPARE(m_viewer->zoomFactor(), 0.8);

    // Without Ctrl the wheel scrolls.
    m_viewer->setZoomFactor(1);
    QScrollBar* vertical = scrollArea()->verticalScrollBar();
    vertical->setValue(0);
    wheel(-120, Qt::NoModifier);
    QCOMPARE(m_viewer->zoomFactor(), 1.0);
    QVERIFY(vertical->value() > 0);
}

void TestImageViewer::showsOnlyTheImageAskedForLast()
{
    addStandardImages();
    openViewer(2);
    QSignalSpy changed(m_viewer.get(), &ImageViewer::currentRowChanged);
    // The big file is still being read when the small one, read in no time, is asked for.
    m_viewer->showRow(0);
    QVERIFY(m_viewer->isLoading());
    m_viewer->showRow(1);
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isLoading(), Timeout);
    QCOMPARE(m_viewer->imageSize(), QSize(64, 48));
    // Time for the big one to finish, which changes nothing.
    QTest::qWait(500);
    QCOMPARE(m_viewer->imageSize(), QSize(64, 48));
    QCOMPARE(canvas()->size(), QSize(64, 48));
    QCOMPARE(m_viewer->currentRow(), 1);
    QCOMPARE(field("promptValue"), u"a red fox in snow"_s);
    QCOMPARE(changed.count(), 2);
}

void TestImageViewer::unreadableFileShowsAMessage_data()
{
    QTest::addColumn<bool>("present");
    QTest::addColumn<QString>("says");
    QTest::newRow("missing") << false << u"is not there"_s;
    QTest::newRow("not a PNG") << true << u"cannot be shown"_s;
}

void TestImageViewer::unreadableFileShowsAMessage()
{
    QFETCH(bool, present);
    QFETCH(QString, says);
    addStandardImages();
    const QString path = m_dir->filePath(u"broken.png"_s);
    if (present) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("\x89PNG\r\n\x1a\n but then nothing an image needs");
    }
    LibraryImage image;
    image.path = path;
    image.settings.prompt = u"lost"_s;
    image.created = Start + 5000 * 60000; // the newest: row 0
    image.fileSize = 100;
    image.fileModified = image.created;
    QVERIFY(m_library->add(image));
    openViewer(0);

    QCOMPARE(m_viewer->currentRow(), 0);
    QCOMPARE(m_viewer->imageSize(), QSize());
    const QString message = m_viewer->errorMessage();
    QVERIFY2(message.contains(QDir::toNativeSeparators(path)) && message.contains(says), qPrintable(message));
    const auto* shown = m_viewer->findChild<QLabel*>(u"imageMessage"_s);
    QVERIFY(shown->isVisible());
    QCOMPARE(shown->text(), message);
    // Its parameters still show, and the next image shows as usual.
    QCOMPARE(field("promptValue"), u"lost"_s);
    QTest::keyClick(m_viewer.get(), Qt::Key_Right);
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isLoading(), Timeout);
    QCOMPARE(m_viewer->errorMessage(), QString());
    QVERIFY(!shown->isVisible());
    QCOMPARE(m_viewer->imageSize(), QSize(1600, 1024));
}

void TestImageViewer::followsRemovedRows_data()
{
    QTest::addColumn<int>("shown");
    QTest::addColumn<int>("removed");
    QTest::addColumn<int>("row");
    QTest::addColumn<QString>("fileName");

    // Rows: 0 big, 1 small, 2 bare.
    QTest::newRow("shown first") << 0 << 0 << 0 << u"small.png"_s;
    QTest::newRow("shown in the middle: the next takes its place") << 1 << 1 << 1 << u"bare.png"_s;
    QTest::newRow("shown last: the previous") << 2 << 2 << 1 << u"small.png"_s;
    QTest::newRow("one above") << 2 << 0 << 1 << u"bare.png"_s;
    QTest::newRow("one below") << 0 << 1 << 0 << u"big.png"_s;
}

void TestImageViewer::followsRemovedRows()
{
    QFETCH(int, shown);
    QFETCH(int, removed);
    QFETCH(int, row);
    QFETCH(QString, fileName);
    addStandardImages();
    openViewer(shown);
    QSignalSpy changed(m_viewer.get(), &ImageViewer::currentRowChanged);

    const qint64 id = m_model->imageAt(removed).id;
    QVERIFY(m_library->remove({id}));
    m_model->removeImages({id});
    QCOMPARE(m_viewer->currentRow(), row);
    QCOMPARE(m_viewer->currentId(), m_ids.value(fileName));
    QCOMPARE(field("promptValue"), m_model->imageAt(row).settings.prompt);
    QCOMPARE(m_viewer->windowTitle(), u"%1 – %2 of 2"_s.arg(fileName).arg(row + 1));
    QCOMPARE(changed.isEmpty(), row == shown && removed != shown);
    if (!changed.isEmpty()) {
        QCOMPARE(changed.last().at(0).toInt(), row);
    }
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isLoading(), Timeout);
    QCOMPARE(m_viewer->imageSize(), QSize(m_model->imageAt(row).pixelWidth, m_model->imageAt(row).pixelHeight));
}

void TestImageViewer::keepsItsImageWhenOneArrivesAbove()
{
    addStandardImages();
    openViewer(1);
    QSignalSpy changed(m_viewer.get(), &ImageViewer::currentRowChanged);
    const qint64 id = addImage(u"new.png"_s, {32, 32}, promptOnly(u"just made"_s), 2000);
    QVERIFY(m_model->addImage(id));
    QCOMPARE(m_model->rowOf(id), 0);
    QCOMPARE(m_viewer->currentId(), m_ids.value(u"small.png"_s));
    QCOMPARE(m_viewer->currentRow(), 2);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toInt(), 2);
    QCOMPARE(m_viewer->windowTitle(), u"small.png – 3 of 4"_s);
    // Not read again.
    QVERIFY(!m_viewer->isLoading());
    QCOMPARE(m_viewer->imageSize(), QSize(64, 48));
}

void TestImageViewer::keepsItsImageThroughAReset()
{
    addStandardImages();
    openViewer(1);
    QSignalSpy changed(m_viewer.get(), &ImageViewer::currentRowChanged);
    LibraryFilter filter;
    filter.search = u"fox"_s;
    m_model->setFilter(filter);
    QTRY_COMPARE_WITH_TIMEOUT(m_viewer->currentRow(), 0, Timeout);
    QCOMPARE(m_viewer->currentId(), m_ids.value(u"small.png"_s));
    // The reset dropped the gallery's selection: the viewer says its row again.
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toInt(), 0);
    QCOMPARE(m_viewer->windowTitle(), u"small.png – 1 of 1"_s);
    QCOMPARE(m_viewer->imageSize(), QSize(64, 48));
    QVERIFY(m_viewer->isVisible());
}

void TestImageViewer::settlesOnItsPlaceWhenAResetDropsItsImage()
{
    addStandardImages();
    openViewer(2);
    LibraryFilter filter;
    filter.search = u"lighthouse"_s;
    m_model->setFilter(filter);
    // Its row (2) is past the end of the one row left: the last one, the one before it, shows.
    QTRY_COMPARE_WITH_TIMEOUT(m_viewer->currentRow(), 0, Timeout);
    QCOMPARE(m_viewer->currentId(), m_ids.value(u"big.png"_s));
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isLoading(), Timeout);
    QCOMPARE(m_viewer->imageSize(), QSize(1600, 1024));
}

void TestImageViewer::closesWhenTheModelIsEmpty_data()
{
    QTest::addColumn<bool>("byFilter");
    QTest::newRow("every image removed") << false;
    QTest::newRow("a filter that selects none") << true;
}

void TestImageViewer::closesWhenTheModelIsEmpty()
{
    QFETCH(bool, byFilter);
    addStandardImages();
    openViewer(1);
    if (byFilter) {
        LibraryFilter filter;
        filter.search = u"nothing like it"_s;
        m_model->setFilter(filter);
    } else {
        const QList<qint64> ids = m_ids.values();
        QVERIFY(m_library->remove(ids));
        m_model->removeImages(ids);
        QVERIFY(!m_viewer->isVisible());
    }
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isVisible(), Timeout);
    QCOMPARE(m_viewer->imageSize(), QSize());
}

void TestImageViewer::offersTheImageActions()
{
    addStandardImages();
    openViewer(1);
    QAction star(u"Star"_s);
    star.setShortcut(QKeySequence(Qt::Key_S));
    QAction copyPrompt(u"Copy Prompt"_s);
    m_viewer->addImageActions({&star, &copyPrompt});
    const auto* toolBar = m_viewer->findChild<QToolBar*>(u"viewerToolBar"_s);
    QVERIFY(toolBar->actions().contains(&star) && toolBar->actions().contains(&copyPrompt));
    QVERIFY(toolBar->widgetForAction(&star));
    QTRY_VERIFY_WITH_TIMEOUT(toolBar->widgetForAction(&star)->isVisible(), Timeout);

    // Their shortcuts work in the viewer's window, and take the image the viewer shows (the gallery's current).
    QSignalSpy triggered(&star, &QAction::triggered);
    QTest::keyClick(m_viewer.get(), Qt::Key_S);
    QCOMPARE(triggered.count(), 1);
}

void TestImageViewer::escapeClosesAndShowRowReopens()
{
    addStandardImages();
    openViewer(1);
    QTest::keyClick(m_viewer.get(), Qt::Key_Escape);
    QVERIFY(!m_viewer->isVisible());
    QCOMPARE(m_viewer->imageSize(), QSize()); // a closed viewer holds no image

    m_viewer->showRow(0);
    m_viewer->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_viewer.get()));
    QCOMPARE(m_viewer->currentRow(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(!m_viewer->isLoading(), Timeout);
    QCOMPARE(m_viewer->imageSize(), QSize(1600, 1024));
}

QTEST_MAIN(TestImageViewer)
#include "TestImageViewer.moc"
