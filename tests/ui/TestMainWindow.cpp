// SPDX-License-Identifier: GPL-3.0-or-later
#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QLabel>
#include <QListView>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTest>

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QLineEdit>
#include <QScopeGuard>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>

#include "GalleryModel.h"
#include "MainWindow.h"
#include "TestSupport.h"
#include "Translations.h"
#include "queue/PromptQueue.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

class TestMainWindow final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void typingAndClickingAddQueuesThePrompt();
    void blankPromptCannotBeQueued();
    void ctrlEnterQueuesWithNegativePrompt();
    void removesSelectedPrompts();
    void speaksChinese();
    void unknownLocaleFallsBackToEnglishPlurals();
    void importsFilesAndNamesTheBadLines();
    void droppedFilesAreQueued();
    void rendersTheQueueIntoTheGallery();
    void stopPutsTheRunningPromptBackFirst();
    void closingWhileRenderingKeepsEveryPrompt();
    void aModelThatDoesNotLoadIsExplainedAndNothingIsLost();

private:
    // Queues "first" and "second" and renders with slow workers until "first" has made progress.
    void startTwoSlowPrompts(const QString& output);

    std::unique_ptr<QueueStore> m_store;
    std::unique_ptr<PromptQueue> m_queue;
    std::unique_ptr<MainWindow> m_window;
    QPlainTextEdit* m_prompt = nullptr;
    QPlainTextEdit* m_negative = nullptr;
    QPushButton* m_add = nullptr;
    QPushButton* m_remove = nullptr;
    QListView* m_view = nullptr;
};

void TestMainWindow::initTestCase()
{
    // Settings go to a test location, never the developer's own.
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"AtelierTests"_s);
    QCoreApplication::setApplicationName(u"TestMainWindow"_s);
}

void TestMainWindow::init()
{
    QSettings().clear();
    installTranslations(QLocale(QLocale::English));
    m_store = std::make_unique<QueueStore>();
    QCOMPARE(m_store->open(u":memory:"_s), QString());
    m_queue = std::make_unique<PromptQueue>(m_store.get());
    m_window = std::make_unique<MainWindow>(m_queue.get(), Test::executablePath(u"atelier-worker"_s));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_prompt = m_window->findChild<QPlainTextEdit*>(u"promptEdit"_s);
    m_negative = m_window->findChild<QPlainTextEdit*>(u"negativeEdit"_s);
    m_add = m_window->findChild<QPushButton*>(u"addButton"_s);
    m_remove = m_window->findChild<QPushButton*>(u"removeButton"_s);
    m_view = m_window->findChild<QListView*>(u"queueView"_s);
    QVERIFY(m_prompt && m_negative && m_add && m_remove && m_view);
}

void TestMainWindow::cleanup()
{
    m_window.reset();
    m_queue.reset();
    m_store.reset();
}

void TestMainWindow::typingAndClickingAddQueuesThePrompt()
{
    m_prompt->setFocus();
    QTest::keyClicks(m_prompt, u"a lighthouse at dusk"_s);
    QTRY_VERIFY(m_add->isEnabled());
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(m_queue->size(), 1);
    QCOMPARE(m_queue->at(0).prompt, u"a lighthouse at dusk"_s);
    QVERIFY(m_prompt->toPlainText().isEmpty());
    QCOMPARE(m_view->model()->rowCount(), 1);
    QVERIFY(!m_add->isEnabled());
    auto* status = m_window->findChild<QLabel*>(u"statusLabel"_s);
    QVERIFY(status);
    QCOMPARE(status->text(), u"1 prompt queued"_s);
    QTest::keyClicks(m_prompt, u"a second one"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(status->text(), u"2 prompts queued"_s);
}

void TestMainWindow::blankPromptCannotBeQueued()
{
    m_prompt->setFocus();
    QTest::keyClicks(m_prompt, u"   "_s);
    QVERIFY(!m_add->isEnabled());
    QTest::mouseClick(m_add, Qt::LeftButton);
    QCOMPARE(m_queue->size(), 0);
}

void TestMainWindow::ctrlEnterQueuesWithNegativePrompt()
{
    m_negative->setFocus();
    QTest::keyClicks(m_negative, u"blurry"_s);
    m_prompt->setFocus();
    QTest::keyClicks(m_prompt, u"a red fox"_s);
    QTest::keyClick(m_prompt, Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE(m_queue->size(), 1);
    QCOMPARE(m_queue->at(0).prompt, u"a red fox"_s);
    QCOMPARE(m_queue->at(0).negativePrompt, u"blurry"_s);
}

void TestMainWindow::removesSelectedPrompts()
{
    for (const auto& p : {u"one"_s, u"two"_s, u"three"_s}) {
        RenderSettings job;
        job.prompt = p;
        m_queue->enqueue(job);
    }
    QVERIFY(!m_remove->isEnabled());
    const QRect second = m_view->visualRect(m_queue->index(1));
    QTest::mouseClick(m_view->viewport(), Qt::LeftButton, {}, second.center());
    QTRY_VERIFY(m_remove->isEnabled());
    QTest::mouseClick(m_remove, Qt::LeftButton);
    QTRY_COMPARE(m_queue->size(), 2);
    QCOMPARE(m_queue->at(0).prompt, u"one"_s);
    QCOMPARE(m_queue->at(1).prompt, u"three"_s);
}

void TestMainWindow::speaksChinese()
{
    QCOMPARE(m_add->text(), u"&Add to queue"_s);
    QVERIFY(installTranslations(QLocale(QLocale::Chinese, QLocale::China)));
    QTRY_COMPARE(m_add->text(), u"加入队列(&A)"_s);
    installTranslations(QLocale(QLocale::English));
    QTRY_COMPARE(m_add->text(), u"&Add to queue"_s);
}

void TestMainWindow::unknownLocaleFallsBackToEnglishPlurals()
{
    // No catalogue exists for the C locale or for Welsh; the status bar must still read as English.
    QVERIFY(!installTranslations(QLocale::c()));
    QVERIFY(!installTranslations(QLocale(QLocale::Welsh)));
    auto* status = m_window->findChild<QLabel*>(u"statusLabel"_s);
    QTRY_COMPARE(status->text(), u"0 prompts queued"_s);
}

void TestMainWindow::importsFilesAndNamesTheBadLines()
{
    // Two good prompts and three lines that try options outside the allow-list (output paths, styles).
    const QString file = Atelier::Test::dataPath(u"prompts/outpath.txt"_s);
    QCOMPARE(m_window->importFiles({file}), 2);
    QCOMPARE(m_queue->size(), 2);
    QCOMPARE(m_queue->at(0).prompt, u"first prompt"_s);
    QCOMPARE(m_queue->at(1).prompt, u"last prompt"_s);
    QVERIFY(!m_queue->at(0).seed.has_value()); // drawn when a worker takes it, then kept in the job
    QMessageBox* box = nullptr;
    QTRY_VERIFY((box = m_window->findChild<QMessageBox*>(u"importProblems"_s)) != nullptr);
    QVERIFY(box->isVisible());
    QVERIFY2(box->detailedText().contains(file + u":2:"_s), qPrintable(box->detailedText()));
    QVERIFY2(box->detailedText().contains(u"outpath_samples"_s), qPrintable(box->detailedText()));
    QVERIFY(box->detailedText().contains(file + u":4:"_s));
    // The window stays usable while the box is open: it is not modal.
    QVERIFY(!box->isModal() || box->windowModality() != Qt::ApplicationModal);
    box->close();
}

void TestMainWindow::droppedFilesAreQueued()
{
    auto* mime = new QMimeData;
    mime->setUrls({QUrl::fromLocalFile(Atelier::Test::dataPath(u"prompts/crlf.txt"_s)),
                   QUrl(u"https://example.invalid/remote.txt"_s)});
    const QPoint centre = m_window->rect().center();
    QDragEnterEvent enter(centre, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_window.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(centre, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_window.get(), &drop);
    QTRY_COMPARE(m_queue->size(), 2);
    QCOMPARE(m_queue->at(0).prompt, u"one"_s);
    QCOMPARE(m_queue->at(1).prompt, u"two"_s);
    delete mime;
}

QTEST_MAIN(TestMainWindow)
namespace
{
    // Workers that sleep 100 ms a step (test hooks), so a run can be caught half-way; undone when the guard goes.
    auto slowWorkers()
    {
        qputenv("ATELIER_TEST_HOOKS", "1");
        qputenv("ATELIER_TEST_STEP_DELAY_MS", "100");
        return qScopeGuard([] {
            qunsetenv("ATELIER_TEST_HOOKS");
            qunsetenv("ATELIER_TEST_STEP_DELAY_MS");
        });
    }

    // Small, fast renders with the tiny parity model into @p output.
    void useTinySettings(MainWindow* window, const QString& output, int steps)
    {
        window->findChild<QSpinBox*>(u"stepsSpin"_s)->setValue(steps);
        window->findChild<QSpinBox*>(u"widthSpin"_s)->setValue(64);
        window->findChild<QSpinBox*>(u"heightSpin"_s)->setValue(64);
        window->findChild<QLineEdit*>(u"modelEdit"_s)->setText(Test::fixturePath(u"tiny-sd15"_s));
        window->findChild<QLineEdit*>(u"outputEdit"_s)->setText(output);
    }
} // namespace

void TestMainWindow::rendersTheQueueIntoTheGallery()
{
    QTemporaryDir out;
    useTinySettings(m_window.get(), out.path(), 3);
    auto* render = m_window->findChild<QPushButton*>(u"renderButton"_s);
    auto* galleryView = m_window->findChild<QListView*>(u"galleryView"_s);
    QVERIFY(render && galleryView);
    QVERIFY(!render->isEnabled()); // nothing queued yet
    for (const QString& prompt : {u"a lighthouse at dusk"_s, u"a red bicycle"_s}) {
        m_prompt->setFocus();
        QTest::keyClicks(m_prompt, prompt);
        QTest::mouseClick(m_add, Qt::LeftButton);
    }
    QTRY_COMPARE(m_queue->size(), 2);
    QVERIFY(render->isEnabled());
    QTest::mouseClick(render, Qt::LeftButton);
    QVERIFY(m_window->isRendering());
    QCOMPARE(render->text(), u"S&top"_s);
    GalleryModel* gallery = m_window->gallery();
    QCOMPARE(galleryView->model(), gallery);
    QTRY_COMPARE_WITH_TIMEOUT(gallery->countIn(GalleryModel::State::Done), 2, 120000);
    QVERIFY(m_queue->isEmpty());
    for (int row = 0; row < 2; ++row) {
        const QModelIndex index = gallery->index(row);
        const QString path = index.data(GalleryModel::ImagePathRole).toString();
        QVERIFY2(QFileInfo(path).dir() == QDir(out.path()), qPrintable(path));
        const QImage image(path);
        QCOMPARE(image.size(), QSize(64, 64));
        // The tile shows the image, not the empty placeholder.
        const QImage tile = index.data(Qt::DecorationRole).value<QImage>();
        QVERIFY(!tile.isNull());
        QVERIFY(tile.pixelColor(tile.width() / 2, tile.height() / 2).alpha() == 255);
    }
    QCOMPARE(gallery->index(0).data(GalleryModel::PromptRole).toString(), u"a lighthouse at dusk"_s);
    // Workers stay ready: a prompt added now is rendered without pressing Render again.
    QTest::keyClicks(m_prompt, u"a green door"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(gallery->countIn(GalleryModel::State::Done), 3, 120000);
    QTest::mouseClick(render, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
    QCOMPARE(render->text(), u"&Render"_s);
    QVERIFY(m_queue->isEmpty());
}

void TestMainWindow::startTwoSlowPrompts(const QString& output)
{
    useTinySettings(m_window.get(), output, 60);
    for (const QString& prompt : {u"first"_s, u"second"_s}) {
        QVERIFY(m_queue->enqueue(RenderSettings{prompt, {}, std::nullopt, {}, {}, {}, {}, {}}));
    }
    QTest::mouseClick(m_window->findChild<QPushButton*>(u"renderButton"_s), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->gallery()->rowCount() == 1
                                 && m_window->gallery()->index(0).data(GalleryModel::ProgressRole).toDouble() > 0,
                             60000);
    QCOMPARE(m_queue->size(), 1); // the worker took the first; the second waits in the queue
}

void TestMainWindow::stopPutsTheRunningPromptBackFirst()
{
    const auto restore = slowWorkers();
    QTemporaryDir out;
    startTwoSlowPrompts(out.path());
    if (QTest::currentTestFailed()) {
        return;
    }
    auto* render = m_window->findChild<QPushButton*>(u"renderButton"_s);
    GalleryModel* gallery = m_window->gallery();
    const quint64 seed = gallery->index(0).data(GalleryModel::SeedRole).toULongLong();
    QTest::mouseClick(render, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
    QCOMPARE(gallery->index(0).data(GalleryModel::StateRole).value<GalleryModel::State>(),
             GalleryModel::State::Stopped);
    // Nothing lost: the stopped prompt is first again, with the seed it was given.
    QCOMPARE(m_queue->size(), 2);
    QCOMPARE(m_queue->at(0).prompt, u"first"_s);
    QCOMPARE(m_queue->at(0).seed, std::optional<quint64>(seed));
    QCOMPARE(m_queue->at(1).prompt, u"second"_s);
    QVERIFY(QDir(out.path()).isEmpty());
}

void TestMainWindow::closingWhileRenderingKeepsEveryPrompt()
{
    const auto restore = slowWorkers();
    QTemporaryDir out;
    startTwoSlowPrompts(out.path());
    if (QTest::currentTestFailed()) {
        return;
    }
    QVERIFY(m_window->close());
    // The running prompt is back in the queue (which the application saves) before the workers go.
    QVERIFY(!m_window->isRendering());
    QCOMPARE(m_queue->size(), 2);
    QCOMPARE(m_queue->at(0).prompt, u"first"_s);
    QVERIFY(m_queue->at(0).seed.has_value());
    QVERIFY(QDir(out.path()).isEmpty());
}

void TestMainWindow::aModelThatDoesNotLoadIsExplainedAndNothingIsLost()
{
    QTemporaryDir out;
    useTinySettings(m_window.get(), out.path(), 2);
    m_window->findChild<QLineEdit*>(u"modelEdit"_s)->setText(out.filePath(u"no-such-model.safetensors"_s));
    QVERIFY(m_queue->enqueue(RenderSettings{u"a lighthouse"_s, {}, 5, {}, {}, {}, {}, {}}));
    QTest::mouseClick(m_window->findChild<QPushButton*>(u"renderButton"_s), Qt::LeftButton);
    // The worker fails to load three times in a row (1 s, 2 s backoff), the device is disabled, the run ends.
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 90000);
    QMessageBox* box = nullptr;
    QTRY_VERIFY((box = m_window->findChild<QMessageBox*>(u"renderProblems"_s)) != nullptr);
    QVERIFY2(box->detailedText().contains(u"no-such-model.safetensors"_s), qPrintable(box->detailedText()));
    QVERIFY(box->detailedText().contains(u"disabled"_s));
    QCOMPARE(m_queue->size(), 1);
    QCOMPARE(m_queue->at(0).prompt, u"a lighthouse"_s);
    QCOMPARE(m_queue->at(0).seed, std::optional<quint64>(5));
    box->close();
}

#include "TestMainWindow.moc"
