// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include "DeviceBoardModel.h"
#include "GalleryPanel.h"
#include "LibraryModel.h"
#include "MainWindow.h"
#include "QueueTableModel.h"
#include "SettingsDialog.h"
#include "TestSupport.h"
#include "ThumbnailCache.h"
#include "Translations.h"
#include "queue/QueueModel.h"
#include "queue/QueueStore.h"
#include "render/ImageMetadata.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    /// The prompts of the items in @p state, in table order (for waiting ones: the order they will run in).
    QStringList promptsIn(const QueueModel& queue, ItemState state)
    {
        QStringList prompts;
        for (int row = 0; row < queue.rowCount(); ++row) {
            if (queue.itemAt(row).state == state) {
                prompts.append(queue.itemAt(row).settings.prompt);
            }
        }
        return prompts;
    }

    QList<QueueItem> itemsIn(const QueueModel& queue, ItemState state)
    {
        QList<QueueItem> items;
        for (int row = 0; row < queue.rowCount(); ++row) {
            if (queue.itemAt(row).state == state) {
                items.append(queue.itemAt(row));
            }
        }
        return items;
    }

    RenderSettings prompt(const QString& text)
    {
        RenderSettings s;
        s.prompt = text;
        return s;
    }

    // Workers that sleep @p delayMs a step (test hooks), so a run can be caught half-way; undone when the guard
    // goes.
    auto slowWorkers(int delayMs = 100)
    {
        qputenv("ATELIER_TEST_HOOKS", "1");
        qputenv("ATELIER_TEST_STEP_DELAY_MS", QByteArray::number(delayMs));
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

class TestMainWindow final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void typingAndClickingAddQueuesThePrompt();
    void blankPromptCannotBeQueued();
    void ctrlEnterQueuesAndShiftPutsItFirst();
    void seedAndImagesPerPromptMakeOneItemPerSeed();
    void removesSelectedItems();
    void reordersByMoveToTopAndByDrag();
    void editsAQueuedItem();
    void anEditOfAnItemThatStartedIsRefused();
    void speaksChinese();
    void unknownLocaleFallsBackToEnglishPlurals();
    void importsFilesAndNamesTheBadLines();
    void droppedFilesAreQueued();
    void aDroppedImageFillsTheEditorExactly();
    void initImageAndHiresFixFromTheEditor();
    void rendersTheQueueIntoTheGalleryAndTheBoard();
    void twoCpuWorkersShareTheQueue();
    void settingsApplyToTheEditorAndTheNextRun();
    void pauseLetsTheRunningItemFinishAndStartsNothingNew();
    void cancelsOneRunningItemAndRetriesIt();
    void retriesAFailedItem();
    void stopPutsTheRunningPromptBackFirst();
    void closingWhileRenderingKeepsEveryPrompt();
    void aModelThatDoesNotLoadIsExplainedAndNothingIsLost();
    void aKilledWindowGetsEveryPromptBackAndMakesEachImageOnce();

private:
    // Queues "first" and "second" and renders with slow workers until "first" has made progress.
    void startTwoSlowPrompts(const QString& output, int steps = 60);
    void selectRows(const QList<int>& rows);
    QLabel* summary() const { return m_window->findChild<QLabel*>(u"summaryLabel"_s); }
    QAction* action(const char* name) const { return m_window->findChild<QAction*>(QString::fromLatin1(name)); }

    std::unique_ptr<QueueStore> m_store;
    QTemporaryDir m_thumbnailFolder; ///< also holds the image libraries, one per test
    int m_windows = 0;
    std::unique_ptr<ThumbnailCache> m_thumbnails;
    std::unique_ptr<QueueModel> m_queue;
    std::unique_ptr<MainWindow> m_window;
    QPlainTextEdit* m_prompt = nullptr;
    QPlainTextEdit* m_negative = nullptr;
    QPushButton* m_add = nullptr;
    QTableView* m_view = nullptr;
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
    m_thumbnails = std::make_unique<ThumbnailCache>(m_thumbnailFolder.path());
    m_queue = std::make_unique<QueueTableModel>(m_store.get(), m_thumbnails.get());
    m_window = std::make_unique<MainWindow>(m_queue.get(), m_thumbnails.get(),
                                            m_thumbnailFolder.filePath(u"library-%1.sqlite"_s.arg(++m_windows)),
                                            Test::executablePath(u"atelier-worker"_s));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_prompt = m_window->findChild<QPlainTextEdit*>(u"promptEdit"_s);
    m_negative = m_window->findChild<QPlainTextEdit*>(u"negativeEdit"_s);
    m_add = m_window->findChild<QPushButton*>(u"addButton"_s);
    m_view = m_window->findChild<QTableView*>(u"queueView"_s);
    QVERIFY(m_prompt && m_negative && m_add && m_view);
}

void TestMainWindow::cleanup()
{
    m_window.reset();
    m_queue.reset();
    m_thumbnails.reset();
    m_store.reset();
}

void TestMainWindow::selectRows(const QList<int>& rows)
{
    m_view->clearSelection();
    for (const int row : rows) {
        const QRect cell = m_view->visualRect(m_queue->index(row, QueueModel::PromptColumn));
        QTest::mouseClick(m_view->viewport(), Qt::LeftButton, Qt::ControlModifier, cell.center());
    }
}

void TestMainWindow::typingAndClickingAddQueuesThePrompt()
{
    useTinySettings(m_window.get(), QDir::tempPath(), 7);
    m_prompt->setFocus();
    QTest::keyClicks(m_prompt, u"a lighthouse at dusk"_s);
    QTRY_VERIFY(m_add->isEnabled());
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(m_queue->waitingCount(), 1);
    const QueueItem item = m_queue->itemAt(0);
    QCOMPARE(item.settings.prompt, u"a lighthouse at dusk"_s);
    // The item carries the editor's settings, and its seed is drawn now, so the table shows it.
    QCOMPARE(item.settings.steps, std::optional<int>(7));
    QCOMPARE(item.settings.width, std::optional<int>(64));
    QVERIFY(item.settings.seed.has_value());
    QVERIFY(m_prompt->toPlainText().isEmpty());
    QCOMPARE(m_view->model()->rowCount(), 1);
    QVERIFY(!m_add->isEnabled());
    QTRY_COMPARE(summary()->text(), u"1 item waiting"_s);
    QTest::keyClicks(m_prompt, u"a second one"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(summary()->text(), u"2 items waiting"_s);
}

void TestMainWindow::blankPromptCannotBeQueued()
{
    m_prompt->setFocus();
    QTest::keyClicks(m_prompt, u"   "_s);
    QVERIFY(!m_add->isEnabled());
    QTest::mouseClick(m_add, Qt::LeftButton);
    QCOMPARE(m_queue->rowCount(), 0);
}

void TestMainWindow::ctrlEnterQueuesAndShiftPutsItFirst()
{
    m_negative->setFocus();
    QTest::keyClicks(m_negative, u"blurry"_s);
    m_prompt->setFocus();
    QTest::keyClicks(m_prompt, u"a red fox"_s);
    QTest::keyClick(m_prompt, Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE(m_queue->waitingCount(), 1);
    QCOMPARE(m_queue->itemAt(0).settings.prompt, u"a red fox"_s);
    QCOMPARE(m_queue->itemAt(0).settings.negativePrompt, u"blurry"_s);
    QTest::keyClicks(m_prompt, u"a grey wolf"_s);
    QTest::keyClick(m_prompt, Qt::Key_Return, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_COMPARE(m_queue->waitingCount(), 2);
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"a grey wolf"_s, u"a red fox"_s}));
}

void TestMainWindow::seedAndImagesPerPromptMakeOneItemPerSeed()
{
    auto* random = m_window->findChild<QCheckBox*>(u"randomSeedCheck"_s);
    auto* seed = m_window->findChild<QLineEdit*>(u"seedEdit"_s);
    auto* images = m_window->findChild<QSpinBox*>(u"imagesSpin"_s);
    QVERIFY(random && seed && images);
    QVERIFY(random->isChecked());
    QVERIFY(!seed->isEnabled());
    QTest::mouseClick(random, Qt::LeftButton);
    QVERIFY(seed->isEnabled());
    QTest::keyClicks(seed, u"1000"_s);
    images->setValue(3);
    QTest::keyClicks(m_prompt, u"a castle"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(m_queue->waitingCount(), 3);
    QList<quint64> seeds;
    for (const QueueItem& item : itemsIn(*m_queue, ItemState::Queued)) {
        QCOMPARE(item.settings.prompt, u"a castle"_s);
        seeds.append(item.settings.seed.value_or(0));
    }
    QCOMPARE(seeds, (QList<quint64>{1000, 1001, 1002}));
    // Random: a seed drawn once, and its successors.
    QTest::mouseClick(random, Qt::LeftButton);
    images->setValue(2);
    QTest::keyClicks(m_prompt, u"a tower"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(m_queue->waitingCount(), 5);
    const QList<QueueItem> all = itemsIn(*m_queue, ItemState::Queued);
    QCOMPARE(*all.at(4).settings.seed, *all.at(3).settings.seed + 1);
}

void TestMainWindow::removesSelectedItems()
{
    m_queue->add({prompt(u"one"_s), prompt(u"two"_s), prompt(u"three"_s)});
    QVERIFY(!action("removeAction")->isEnabled());
    selectRows({1});
    QTRY_VERIFY(action("removeAction")->isEnabled());
    QTest::keyClick(m_view, Qt::Key_Delete);
    QTRY_COMPARE(m_queue->waitingCount(), 2);
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"one"_s, u"three"_s}));
    // Delete in the prompt editor deletes text, not items.
    selectRows({0});
    m_prompt->setFocus();
    QTest::keyClicks(m_prompt, u"ab"_s);
    QTest::keyClick(m_prompt, Qt::Key_Home);
    QTest::keyClick(m_prompt, Qt::Key_Delete);
    QCOMPARE(m_prompt->toPlainText(), u"b"_s);
    QCOMPARE(m_queue->waitingCount(), 2);
}

void TestMainWindow::reordersByMoveToTopAndByDrag()
{
    m_queue->add({prompt(u"a"_s), prompt(u"b"_s), prompt(u"c"_s), prompt(u"d"_s)});
    selectRows({2});
    m_view->setFocus();
    QTest::keyClick(m_view, Qt::Key_Up, Qt::ControlModifier | Qt::ShiftModifier); // Move to top
    QTRY_COMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"c"_s, u"a"_s, u"b"_s, u"d"_s}));
    // The selection follows the moved item.
    QCOMPARE(m_window->selectedItems(), QList<qint64>{m_queue->itemAt(0).id});

    // Drag "d" onto "a": it goes before it.
    std::unique_ptr<QMimeData> dragged(m_queue->mimeData({m_queue->index(3, QueueModel::PromptColumn)}));
    QVERIFY(dragged);
    const QPoint onA = m_view->visualRect(m_queue->index(1, QueueModel::PromptColumn)).center();
    QDragEnterEvent enter(onA, Qt::MoveAction, dragged.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_view->viewport(), &enter);
    QDragMoveEvent move(onA, Qt::MoveAction, dragged.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_view->viewport(), &move);
    QDropEvent drop(onA, Qt::MoveAction, dragged.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_view->viewport(), &drop);
    QTRY_COMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"c"_s, u"d"_s, u"a"_s, u"b"_s}));
    QCOMPARE(m_queue->rowCount(), 4); // moved, not copied or removed
    // And to the bottom.
    selectRows({0});
    action("moveBottomAction")->trigger();
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"d"_s, u"a"_s, u"b"_s, u"c"_s}));
}

void TestMainWindow::editsAQueuedItem()
{
    RenderSettings original = prompt(u"a lighthouse"_s);
    original.seed = 5;
    original.steps = 10;
    m_queue->add({original, prompt(u"after"_s)});
    const qint64 id = m_queue->itemAt(0).id;
    m_view->doubleClicked(m_queue->index(0, QueueModel::PromptColumn));
    QCOMPARE(m_window->editedItem(), std::optional<qint64>(id));
    QCOMPARE(m_prompt->toPlainText(), u"a lighthouse"_s);
    QCOMPARE(m_window->findChild<QLineEdit*>(u"seedEdit"_s)->text(), u"5"_s);
    QCOMPARE(m_window->findChild<QSpinBox*>(u"stepsSpin"_s)->value(), 10);
    auto* save = m_window->findChild<QPushButton*>(u"saveEditButton"_s);
    QVERIFY(save->isVisible());
    QVERIFY(!m_add->isVisible());
    QTest::keyClick(m_prompt, Qt::Key_End, Qt::ControlModifier);
    QTest::keyClicks(m_prompt, u" at dusk"_s);
    m_window->findChild<QSpinBox*>(u"stepsSpin"_s)->setValue(25);
    QTest::mouseClick(save, Qt::LeftButton);
    QVERIFY(!m_window->editedItem());
    const QueueItem edited = *m_queue->item(id);
    QCOMPARE(edited.settings.prompt, u"a lighthouse at dusk"_s);
    QCOMPARE(edited.settings.steps, std::optional<int>(25));
    QCOMPARE(edited.settings.seed, std::optional<quint64>(5));
    QCOMPARE(m_queue->waitingCount(), 2); // edited in place, not added
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued).constFirst(), u"a lighthouse at dusk"_s);
    QTRY_VERIFY(m_add->isVisible());
}

void TestMainWindow::anEditOfAnItemThatStartedIsRefused()
{
    m_queue->add({prompt(u"a lighthouse"_s)});
    const qint64 id = m_queue->itemAt(0).id;
    QVERIFY(m_window->editItem(id));
    QVERIFY(m_queue->claim()); // a worker took it meanwhile
    QTest::keyClick(m_prompt, Qt::Key_End, Qt::ControlModifier);
    QTest::keyClicks(m_prompt, u" changed"_s);
    QVERIFY(!m_window->saveEdit());
    QCOMPARE(m_queue->item(id)->settings.prompt, u"a lighthouse"_s);
    QVERIFY(m_window->findChild<QLabel*>(u"statusLabel"_s)->text().contains(u"started"_s));
    QCOMPARE(m_prompt->toPlainText(), u"a lighthouse changed"_s); // kept, to add as new
}

void TestMainWindow::speaksChinese()
{
    QCOMPARE(m_add->text(), u"&Add to queue"_s);
    QVERIFY(installTranslations(QLocale(QLocale::Chinese, QLocale::China)));
    QTRY_COMPARE(m_add->text(), u"加入队列(&A)"_s);
    QCOMPARE(action("pauseAction")->text(), u"暂停(&P)"_s);
    QCOMPARE(m_queue->headerData(QueueModel::StateColumn, Qt::Horizontal).toString(), u"状态"_s);
    // The gallery too: its search box, its count and the actions on an image.
    QCOMPARE(m_window->findChild<QLineEdit*>(u"gallerySearch"_s)->placeholderText(), u"搜索提示词"_s);
    QCOMPARE(action("galleryStarAction")->text(), u"加星标(&S)"_s);
    installTranslations(QLocale(QLocale::English));
    QTRY_COMPARE(m_add->text(), u"&Add to queue"_s);
    QCOMPARE(m_window->findChild<QLineEdit*>(u"gallerySearch"_s)->placeholderText(), u"Search prompts"_s);
}

void TestMainWindow::unknownLocaleFallsBackToEnglishPlurals()
{
    // No catalogue exists for the C locale or for Welsh; the status bar must still read as English.
    QVERIFY(!installTranslations(QLocale::c()));
    QVERIFY(!installTranslations(QLocale(QLocale::Welsh)));
    QTRY_COMPARE(summary()->text(), u"0 items waiting"_s);
}

void TestMainWindow::importsFilesAndNamesTheBadLines()
{
    // Two good prompts and three lines that try options outside the allow-list (output paths, styles).
    m_window->findChild<QSpinBox*>(u"stepsSpin"_s)->setValue(12);
    const QString file = Atelier::Test::dataPath(u"prompts/outpath.txt"_s);
    QCOMPARE(m_window->importFiles({file}), 2);
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"first prompt"_s, u"last prompt"_s}));
    const QueueItem first = m_queue->itemAt(0);
    QVERIFY(!first.settings.seed.has_value()); // drawn when a worker takes it, then kept in the item
    QCOMPARE(first.settings.steps, std::optional<int>(12)); // what the file leaves unset, the editor gives
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
    QTRY_COMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"one"_s, u"two"_s}));
    delete mime;
}

void TestMainWindow::aDroppedImageFillsTheEditorExactly()
{
    QTemporaryDir dir;
    Infotext infotext;
    infotext.settings = prompt(u"masterpiece, a fox in the snow, red scarf"_s);
    infotext.settings.negativePrompt = u"blurry, lowres"_s;
    infotext.settings.seed = 1234567890123ULL;
    infotext.settings.steps = 33;
    infotext.settings.cfgScale = 6.5;
    infotext.settings.width = 576;
    infotext.settings.height = 448;
    infotext.settings.scheduler = u"dpmpp_2m_karras"_s;
    infotext.modelName = u"v1-5-pruned-emaonly"_s;
    QImage image(8, 8, QImage::Format_RGB32);
    image.fill(Qt::darkCyan);
    infotext.settings.clipSkip = 2;
    image.setText(u"parameters"_s, infotext.toString() + u", Hires upscale: 2"_s);
    const QString png = dir.filePath(u"00001-1234567890123-a-fox.png"_s);
    QVERIFY(image.save(png));
    QImage bare(8, 8, QImage::Format_RGB32);
    bare.fill(Qt::red);
    const QString plain = dir.filePath(u"plain.png"_s);
    QVERIFY(bare.save(plain));

    auto drop = [this](const QString& path, Qt::KeyboardModifiers modifiers) {
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        const QPoint centre = m_window->rect().center();
        QDragEnterEvent enter(centre, Qt::CopyAction, &mime, Qt::LeftButton, modifiers);
        QApplication::sendEvent(m_window.get(), &enter);
        QDropEvent event(centre, Qt::CopyAction, &mime, Qt::LeftButton, modifiers);
        QApplication::sendEvent(m_window.get(), &event);
    };
    drop(png, Qt::NoModifier);
    QVERIFY2(m_prompt->toPlainText() == infotext.settings.prompt,
             qPrintable(m_window->findChild<QLabel*>(u"statusLabel"_s)->text()));
    QCOMPARE(m_negative->toPlainText(), infotext.settings.negativePrompt);
    QVERIFY(!m_window->findChild<QCheckBox*>(u"randomSeedCheck"_s)->isChecked());
    QCOMPARE(m_window->findChild<QLineEdit*>(u"seedEdit"_s)->text(), u"1234567890123"_s);
    QCOMPARE(m_window->findChild<QSpinBox*>(u"stepsSpin"_s)->value(), 33);
    QCOMPARE(m_window->findChild<QDoubleSpinBox*>(u"cfgSpin"_s)->value(), 6.5);
    QCOMPARE(m_window->findChild<QSpinBox*>(u"widthSpin"_s)->value(), 576);
    QCOMPARE(m_window->findChild<QSpinBox*>(u"heightSpin"_s)->value(), 448);
    QCOMPARE(m_window->findChild<QComboBox*>(u"samplerCombo"_s)->currentData().toString(), u"dpmpp_2m_karras"_s);
    QCOMPARE(m_window->findChild<QSpinBox*>(u"clipSkipSpin"_s)->value(), 2);
    QCOMPARE(m_queue->rowCount(), 0);
    // The hires fix too, with A1111's defaults for what the infotext leaves out.
    QVERIFY(m_window->findChild<QCheckBox*>(u"hiresCheck"_s)->isChecked());
    QCOMPARE(m_window->findChild<QDoubleSpinBox*>(u"hiresScaleSpin"_s)->value(), 2.0);
    QCOMPARE(m_window->findChild<QDoubleSpinBox*>(u"strengthSpin"_s)->value(), RenderDefaults::HiresStrength);
    QVERIFY2(!m_window->findChild<QLabel*>(u"statusLabel"_s)->text().contains(u"not used"_s),
             qPrintable(m_window->findChild<QLabel*>(u"statusLabel"_s)->text()));
    // The editor then queues exactly that image again.
    RenderSettings expected = infotext.settings;
    expected.hiresScale = 2;
    expected.hiresSteps = 0;
    expected.hiresUpscaler = u"Latent"_s;
    expected.denoisingStrength = RenderDefaults::HiresStrength;
    expected.vae = u""_s;
    QCOMPARE(m_window->itemsFromEditor(), QList<RenderSettings>{expected});

    // With Shift: straight to the queue.
    m_prompt->clear();
    drop(png, Qt::ShiftModifier);
    QCOMPARE(m_queue->waitingCount(), 1);
    QCOMPARE(m_queue->itemAt(0).settings, expected);
    QVERIFY(m_prompt->toPlainText().isEmpty());

    // An image without parameters changes nothing, and says so.
    drop(plain, Qt::NoModifier);
    QVERIFY(m_prompt->toPlainText().isEmpty());
    QVERIFY(m_window->findChild<QLabel*>(u"statusLabel"_s)->text().contains(u"plain.png"_s));
    QCOMPARE(m_queue->rowCount(), 1);
}

// An init image makes the item image to image (the hires fix then cannot be had); the hires fix check box makes it
// a two-pass render; each brings A1111's default denoising strength, and the queue item says all of it.
void TestMainWindow::initImageAndHiresFixFromTheEditor()
{
    auto* init = m_window->findChild<QLineEdit*>(u"initImageEdit"_s);
    auto* hires = m_window->findChild<QCheckBox*>(u"hiresCheck"_s);
    auto* strength = m_window->findChild<QDoubleSpinBox*>(u"strengthSpin"_s);
    auto* scale = m_window->findChild<QDoubleSpinBox*>(u"hiresScaleSpin"_s);
    QVERIFY(init && hires && strength && scale);
    QVERIFY(!strength->isEnabled() && !scale->isEnabled());

    QTest::keyClicks(init, u"/art/fox.png"_s);
    QVERIFY(!hires->isEnabled());
    QVERIFY(strength->isEnabled());
    QCOMPARE(strength->value(), RenderDefaults::ImageToImageStrength);
    QTest::keyClicks(m_prompt, u"a fox in ink"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(m_queue->waitingCount(), 1);
    const RenderSettings image = m_queue->itemAt(0).settings;
    QCOMPARE(image.initImage, std::optional<QString>(u"/art/fox.png"_s));
    QCOMPARE(image.denoisingStrength, std::optional<double>(RenderDefaults::ImageToImageStrength));
    QVERIFY(!image.hiresEnabled());

    init->clear();
    QVERIFY(hires->isEnabled() && !strength->isEnabled());
    QTest::mouseClick(hires, Qt::LeftButton);
    QVERIFY(hires->isChecked() && scale->isEnabled() && strength->isEnabled());
    QCOMPARE(strength->value(), RenderDefaults::HiresStrength);
    scale->setValue(1.5);
    QTest::keyClicks(m_prompt, u"an owl"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE(m_queue->waitingCount(), 2);
    const RenderSettings twoPass = m_queue->itemAt(1).settings;
    QVERIFY(!twoPass.initImage);
    QCOMPARE(twoPass.hiresScale, std::optional<double>(1.5));
    QCOMPARE(twoPass.hiresSteps, std::optional<int>(RenderDefaults::HiresSteps));
    QCOMPARE(twoPass.hiresUpscaler, std::optional<QString>(RenderDefaults::HiresUpscaler.toString()));
    QCOMPARE(twoPass.denoisingStrength, std::optional<double>(RenderDefaults::HiresStrength));
    // The queue shows it, and editing the item brings every control back.
    QVERIFY2(QueueModel::settingsSummary(twoPass).contains(u"hires ×1.5"_s),
             qPrintable(QueueModel::settingsSummary(twoPass)));
    QVERIFY2(QueueModel::settingsSummary(image).contains(u"from fox.png"_s),
             qPrintable(QueueModel::settingsSummary(image)));
    hires->setChecked(false);
    QVERIFY(m_window->editItem(m_queue->itemAt(0).id));
    QCOMPARE(init->text(), u"/art/fox.png"_s);
    QVERIFY(!hires->isEnabled());
}

void TestMainWindow::rendersTheQueueIntoTheGalleryAndTheBoard()
{
    QTemporaryDir out;
    useTinySettings(m_window.get(), out.path(), 3);
    auto* render = m_window->findChild<QPushButton*>(u"renderButton"_s);
    auto* galleryView = m_window->findChild<QListView*>(u"galleryView"_s);
    QVERIFY(render && galleryView);
    QVERIFY(!render->isEnabled()); // nothing queued yet
    for (const QString& text : {u"a lighthouse at dusk"_s, u"a red bicycle"_s}) {
        m_prompt->setFocus();
        QTest::keyClicks(m_prompt, text);
        QTest::mouseClick(m_add, Qt::LeftButton);
    }
    QTRY_COMPARE(m_queue->waitingCount(), 2);
    QVERIFY(render->isEnabled());
    QSignalSpy notified(m_window.get(), &MainWindow::notified);
    QTest::mouseClick(render, Qt::LeftButton);
    QVERIFY(m_window->isRendering());
    QCOMPARE(render->text(), u"S&top"_s);
    LibraryModel* gallery = m_window->gallery()->model();
    QCOMPARE(galleryView->model(), gallery);
    QTRY_COMPARE_WITH_TIMEOUT(itemsIn(*m_queue, ItemState::Done).size(), 2, 120000);
    QTRY_COMPARE(itemsIn(*m_queue, ItemState::Done).size(), 2);
    // Done rows show their image's thumbnail (made off the UI thread, so it comes a moment later).
    for (const QueueItem& item : itemsIn(*m_queue, ItemState::Done)) {
        const QModelIndex cell = m_queue->index(m_queue->rowOf(item.id), QueueModel::PromptColumn);
        QTRY_VERIFY(!cell.data(Qt::DecorationRole).value<QImage>().isNull());
        QCOMPARE(cell.data(Qt::DecorationRole).value<QImage>().width(), QueueTableModel::PictureSide);
    }
    for (const QueueItem& item : itemsIn(*m_queue, ItemState::Done)) {
        QVERIFY2(QFileInfo(item.imagePath).dir() == QDir(out.path()), qPrintable(item.imagePath));
        QCOMPARE(QImage(item.imagePath).size(), QSize(64, 64));
        QCOMPARE(item.device, u"cpu"_s);
    }
    // The gallery has both, newest first, from the image library, with their thumbnails.
    QTRY_COMPARE(gallery->rowCount(), 2);
    QCOMPARE(gallery->index(0).data(LibraryModel::PromptRole).toString(), u"a red bicycle"_s);
    QCOMPARE(gallery->index(1).data(LibraryModel::PromptRole).toString(), u"a lighthouse at dusk"_s);
    for (int row = 0; row < 2; ++row) {
        const LibraryImage image = gallery->index(row).data(LibraryModel::ImageRole).value<LibraryImage>();
        QCOMPARE(image.device, u"cpu"_s);
        QVERIFY(image.queueItemId >= 0);
        QCOMPARE(QFileInfo(image.path).dir(), QDir(out.path()));
        // The tile shows the image (64 × 64, opaque), not the translucent placeholder.
        QTRY_COMPARE(gallery->index(row).data(Qt::DecorationRole).value<QImage>().size(), QSize(64, 64));
        const QImage tile = gallery->index(row).data(Qt::DecorationRole).value<QImage>();
        QCOMPARE(tile.pixelColor(32, 32).alpha(), 255);
    }
    // The board: the CPU made both, is idle now, and says how much memory its worker holds.
    DeviceBoardModel* board = m_window->deviceBoard();
    const int cpu = board->rowOfDevice(u"cpu"_s);
    QVERIFY(cpu >= 0);
    QTRY_COMPARE(board->index(cpu, DeviceBoardModel::ImagesColumn).data().toInt(), 2);
    QTRY_COMPARE(board->index(cpu, DeviceBoardModel::StateColumn).data().toString(), u"idle"_s);
    QTRY_VERIFY(!board->index(cpu, DeviceBoardModel::MemoryColumn).data().toString().isEmpty());
    QTRY_VERIFY2(summary()->text().startsWith(u"2 of 2 images"_s), qPrintable(summary()->text()));
    // Told once that the queue is done, not after each image.
    QCOMPARE(notified.size(), 1);
    QCOMPARE(notified.first().at(0).toString(), u"Atelier: queue done"_s);
    QCOMPARE(notified.first().at(1).toString(), u"Every queued image is made (2 this run)."_s);
    // Workers stay ready: a prompt added now is rendered without pressing Render again.
    QTest::keyClicks(m_prompt, u"a green door"_s);
    QTest::mouseClick(m_add, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(gallery->rowCount(), 3, 120000);
    QCOMPARE(gallery->index(0).data(LibraryModel::PromptRole).toString(), u"a green door"_s);
    QTRY_COMPARE(notified.size(), 2); // empty again
    QTest::mouseClick(render, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
    QCOMPARE(render->text(), u"&Render"_s);
    QCOMPARE(m_queue->waitingCount(), 0);
    QCOMPARE(itemsIn(*m_queue, ItemState::Done).size(), 3);
}

void TestMainWindow::startTwoSlowPrompts(const QString& output, int steps)
{
    useTinySettings(m_window.get(), output, steps);
    for (const QString& text : {u"first"_s, u"second"_s}) {
        m_prompt->setPlainText(text);
        QCOMPARE(m_window->addFromEditor(), 1);
    }
    QTest::mouseClick(m_window->findChild<QPushButton*>(u"renderButton"_s), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(m_queue->index(0, QueueModel::StateColumn).data(QueueModel::ProgressRole).toDouble() > 0,
                             60000);
    QCOMPARE(promptsIn(*m_queue, ItemState::Running), QStringList{u"first"_s});
    QCOMPARE(m_queue->waitingCount(), 1); // the worker took the first; the second waits in the queue
    QVERIFY(m_queue->index(0, QueueModel::StateColumn).data().toString().startsWith(u"running on cpu, step"_s));
    // The running row shows the latest latent preview.
    QTRY_VERIFY_WITH_TIMEOUT(
        !m_queue->index(0, QueueModel::PromptColumn).data(Qt::DecorationRole).value<QImage>().isNull(), 30000);
}

void TestMainWindow::pauseLetsTheRunningItemFinishAndStartsNothingNew()
{
    const auto restore = slowWorkers(50);
    QTemporaryDir out;
    startTwoSlowPrompts(out.path(), 20);
    if (QTest::currentTestFailed()) {
        return;
    }
    action("pauseAction")->trigger();
    QVERIFY(m_window->isPaused());
    QCOMPARE(action("pauseAction")->text(), u"Res&ume"_s);
    QTRY_COMPARE_WITH_TIMEOUT(promptsIn(*m_queue, ItemState::Done), QStringList{u"first"_s}, 60000);
    // Nothing new starts while paused, though a worker is idle.
    QTest::qWait(1500);
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), QStringList{u"second"_s});
    QVERIFY(summary()->text().contains(u"paused"_s));
    action("pauseAction")->trigger();
    QVERIFY(!m_window->isPaused());
    QTRY_COMPARE_WITH_TIMEOUT(promptsIn(*m_queue, ItemState::Done).size(), 2, 60000);
    m_window->stopRendering();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
}

void TestMainWindow::cancelsOneRunningItemAndRetriesIt()
{
    const auto restore = slowWorkers(100);
    QTemporaryDir out;
    startTwoSlowPrompts(out.path(), 60);
    if (QTest::currentTestFailed()) {
        return;
    }
    selectRows({0});
    QTRY_VERIFY(action("cancelAction")->isEnabled());
    action("cancelAction")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(promptsIn(*m_queue, ItemState::Canceled), QStringList{u"first"_s}, 30000);
    // The rest goes on: the worker takes the second at once.
    QTRY_COMPARE_WITH_TIMEOUT(promptsIn(*m_queue, ItemState::Running), QStringList{u"second"_s}, 30000);
    QVERIFY(m_window->isRendering());
    const QList<QueueItem> canceled = itemsIn(*m_queue, ItemState::Canceled);
    QVERIFY(!QFileInfo::exists(canceled.constFirst().imagePath));
    // Retried: it waits again, with its seed, and is made.
    m_window->setPaused(false);
    selectRows({m_queue->rowOf(canceled.constFirst().id)});
    QTRY_VERIFY(action("retryAction")->isEnabled());
    action("retryAction")->trigger();
    QCOMPARE(m_queue->item(canceled.constFirst().id)->state, ItemState::Queued);
    QCOMPARE(m_queue->item(canceled.constFirst().id)->settings.seed, canceled.constFirst().settings.seed);
    m_window->stopRendering();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"second"_s, u"first"_s}));
}

void TestMainWindow::retriesAFailedItem()
{
    QTemporaryDir out;
    useTinySettings(m_window.get(), out.path(), 2);
    m_prompt->setPlainText(u"a lighthouse"_s);
    QCOMPARE(m_window->addFromEditor(), 1);
    // Failed in an earlier run (e.g. the disk was full).
    const std::optional<QueueItem> claimed = m_queue->claim();
    QVERIFY(m_queue->markFailed(claimed->id, u"io: No space left on device"_s, true));
    QCOMPARE(m_queue->index(0, QueueModel::StateColumn).data().toString(), u"failed: io: No space left on device"_s);
    selectRows({0});
    QTRY_VERIFY(action("retryAction")->isEnabled());
    QVERIFY(!action("editAction")->isEnabled());
    action("retryAction")->trigger();
    QCOMPARE(m_queue->waitingCount(), 1);
    QVERIFY(m_window->startRendering());
    QTRY_COMPARE_WITH_TIMEOUT(promptsIn(*m_queue, ItemState::Done), QStringList{u"a lighthouse"_s}, 120000);
    QVERIFY(QFileInfo::exists(m_queue->item(claimed->id)->imagePath));
    m_window->stopRendering();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
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
    const std::optional<quint64> seed = m_queue->itemAt(0).settings.seed;
    QTest::mouseClick(render, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
    QCOMPARE(m_window->gallery()->model()->rowCount(), 0);
    // Nothing lost: the stopped prompt is first again, with the seed it was given.
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"first"_s, u"second"_s}));
    QCOMPARE(m_queue->itemAt(0).settings.seed, seed);
    QVERIFY(QDir(out.path()).isEmpty());
}

void TestMainWindow::twoCpuWorkersShareTheQueue()
{
    // A machine without a GPU can run several CPU workers (Settings); each is a row of the board.
    QSettings().setValue(u"workers/cpuWorkers"_s, 2);
    m_window = std::make_unique<MainWindow>(m_queue.get(), m_thumbnails.get(),
                                            m_thumbnailFolder.filePath(u"library-%1.sqlite"_s.arg(++m_windows)),
                                            Test::executablePath(u"atelier-worker"_s));
    m_window->show();
    DeviceBoardModel* board = m_window->deviceBoard();
    QCOMPARE(board->devicesInUse(), (QStringList{u"cpu"_s, u"cpu#2"_s}));
    QTemporaryDir out;
    useTinySettings(m_window.get(), out.path(), 3);
    QList<RenderSettings> prompts;
    for (int i = 0; i < 4; ++i) {
        prompts.append(RenderSettings{u"prompt %1"_s.arg(i), {}, quint64(i), {}, {}, {}, {}, {}});
    }
    m_queue->add(prompts);
    QVERIFY(m_window->startRendering());
    QTRY_COMPARE_WITH_TIMEOUT(itemsIn(*m_queue, ItemState::Done).size(), 4, 120000);
    // Both workers came up (one gloo group of two) and wait for more; between them they made every image.
    for (const QString& id : {u"cpu"_s, u"cpu#2"_s}) {
        const int row = board->rowOfDevice(id);
        QTRY_COMPARE_WITH_TIMEOUT(board->index(row, DeviceBoardModel::StateColumn).data().toString(), u"idle"_s, 60000);
    }
    QTRY_COMPARE(board->imagesMade(), 4);
    QCOMPARE(QDir(out.path()).entryList({u"*.png"_s}, QDir::Files).size(), 4);
    m_window->stopRendering();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
}

void TestMainWindow::settingsApplyToTheEditorAndTheNextRun()
{
    QTemporaryDir out;
    useTinySettings(m_window.get(), out.path(), 3);
    QTest::keyClick(m_window.get(), Qt::Key_Comma, Qt::ControlModifier);
    auto* dialog = m_window->findChild<SettingsDialog*>(u"settingsDialog"_s);
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->isVisible());
    auto* steps = dialog->findChild<QSpinBox*>(u"stepsSpin"_s);
    auto* pattern = dialog->findChild<QLineEdit*>(u"patternEdit"_s);
    QVERIFY(steps && pattern);
    QCOMPARE(steps->value(), 3); // the editor's values are the dialog's defaults
    steps->setValue(4);
    pattern->clear();
    QTest::keyClicks(pattern, u"[seed]-[steps]-[prompt_words]"_s);
    dialog->findChild<QDialogButtonBox*>(u"buttons"_s)->button(QDialogButtonBox::Ok)->click();
    QTRY_VERIFY(!dialog->isVisible());
    QCOMPARE(m_window->findChild<QSpinBox*>(u"stepsSpin"_s)->value(), 4);
    QCOMPARE(AppSettings::load().steps, 4);
    QCOMPARE(AppSettings::load().namingPattern, u"[seed]-[steps]-[prompt_words]"_s);

    // The next run names its images by the new pattern.
    m_queue->add({RenderSettings{u"a green door"_s, {}, 77, {}, {}, {}, {}, {}}});
    QVERIFY(m_window->startRendering());
    QTRY_COMPARE_WITH_TIMEOUT(itemsIn(*m_queue, ItemState::Done).size(), 1, 120000);
    QCOMPARE(QDir(out.path()).entryList({u"*.png"_s}, QDir::Files), QStringList{u"00000-77-4-a-green-door.png"_s});
    m_window->stopRendering();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 60000);
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
    // The running prompt is back in the queue's store before the workers go.
    QVERIFY(!m_window->isRendering());
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), (QStringList{u"first"_s, u"second"_s}));
    QCOMPARE(m_store->items(QueueStore::windowQueue(), ItemState::Queued).size(), 2);
    QVERIFY(QDir(out.path()).isEmpty());
}

void TestMainWindow::aModelThatDoesNotLoadIsExplainedAndNothingIsLost()
{
    QTemporaryDir out;
    useTinySettings(m_window.get(), out.path(), 2);
    m_window->findChild<QLineEdit*>(u"modelEdit"_s)->setText(out.filePath(u"no-such-model.safetensors"_s));
    RenderSettings seeded = prompt(u"a lighthouse"_s);
    seeded.seed = 5;
    m_queue->add({seeded});
    QSignalSpy notified(m_window.get(), &MainWindow::notified);
    QTest::mouseClick(m_window->findChild<QPushButton*>(u"renderButton"_s), Qt::LeftButton);
    // The worker cannot load the model: the device is disabled, the run ends.
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRendering(), 90000);
    QMessageBox* box = nullptr;
    QTRY_VERIFY((box = m_window->findChild<QMessageBox*>(u"renderProblems"_s)) != nullptr);
    QVERIFY2(box->detailedText().contains(u"no-such-model.safetensors"_s), qPrintable(box->detailedText()));
    QVERIFY(box->detailedText().contains(u"disabled"_s));
    QCOMPARE(notified.size(), 1);
    QCOMPARE(notified.first().at(0).toString(), u"Atelier: a device stopped"_s);
    QVERIFY2(notified.first().at(1).toString().startsWith(u"cpu was disabled: "_s)
                 && notified.first().at(1).toString().contains(u"no-such-model.safetensors"_s),
             qPrintable(notified.first().at(1).toString()));
    QCOMPARE(promptsIn(*m_queue, ItemState::Queued), QStringList{u"a lighthouse"_s});
    QCOMPARE(m_queue->itemAt(0).settings.seed, std::optional<quint64>(5));
    box->close();
}

void TestMainWindow::aKilledWindowGetsEveryPromptBackAndMakesEachImageOnce()
{
    // `atelier --render` renders three prompts with its queue in a data folder of its own and is killed
    // mid-render; this process then opens the same store, as Atelier does when it starts again.
    QTemporaryDir home;
    QTemporaryDir out;
    const QString prompts = home.filePath(u"prompts.txt"_s);
    {
        QFile file(prompts);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("first\nsecond\nthird\n");
    }
    {
        QSettings settings(home.filePath(u"config/Atelier/Atelier.conf"_s), QSettings::IniFormat);
        settings.setValue(u"render/steps"_s, 40);
        settings.setValue(u"render/width"_s, 64);
        settings.setValue(u"render/height"_s, 64);
        settings.setValue(u"render/model"_s, Test::fixturePath(u"tiny-sd15"_s));
        settings.setValue(u"render/output"_s, out.path());
        settings.setValue(u"render/devices"_s, QStringList{u"cpu"_s});
    }
    const QString storePath = home.filePath(u"data/Atelier/Atelier/queue.sqlite"_s);
    QProcess atelier;
    atelier.setProcessChannelMode(QProcess::ForwardedChannels);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"XDG_CONFIG_HOME"_s, home.filePath(u"config"_s));
    environment.insert(u"XDG_DATA_HOME"_s, home.filePath(u"data"_s));
    environment.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s);
    environment.insert(u"ATELIER_TEST_STEP_DELAY_MS"_s, u"100"_s);
    atelier.setProcessEnvironment(environment);
    atelier.start(Test::executablePath(u"atelier"_s), {u"--render"_s, prompts});
    QVERIFY(atelier.waitForStarted());
    auto killAtelier = qScopeGuard([&] {
        atelier.kill();
        atelier.waitForFinished();
    });
    // Killed once the first image is made and the second has been handed to the worker.
    QueueItem running;
    const bool caught = QTest::qWaitFor(
        [&] {
            if (!QFileInfo::exists(storePath)) {
                return false;
            }
            QueueStore meanwhile;
            if (!meanwhile.open(storePath).isEmpty()
                || meanwhile.count(QueueStore::windowQueue(), ItemState::Done) != 1) {
                return false;
            }
            const QList<QueueItem> items = meanwhile.items(QueueStore::windowQueue(), ItemState::Running);
            if (items.size() != 1 || items.first().imagePath.isEmpty()) {
                return false;
            }
            running = items.first();
            return true;
        },
        90000);
    QVERIFY(caught);
    const QList<qint64> workers = Test::childrenOf(atelier.processId());
    QVERIFY(!workers.isEmpty());
    QCOMPARE(running.settings.prompt, u"second"_s); // the first was made before the kill
    ::kill(static_cast<pid_t>(atelier.processId()), SIGKILL);
    QVERIFY(atelier.waitForFinished(30000));
    killAtelier.dismiss();
    // Its workers follow it (they watch their parent), and leave no half image.
    QVERIFY(QTest::qWaitFor(
        [&] { return std::none_of(workers.begin(), workers.end(), [](qint64 pid) { return Test::isRunning(pid); }); },
        30000));
    QCOMPARE(QDir(out.path()).entryList(QDir::Files).size(), 1);

    QueueStore store;
    QCOMPARE(openQueueStore(store, storePath), QString());
    const QList<QueueItem> back = store.items(QueueStore::windowQueue(), ItemState::Queued);
    QCOMPARE(back.size(), 2);
    QCOMPARE(back.at(0).settings.prompt, u"second"_s); // the interrupted one first
    QCOMPARE(back.at(0).attempts, 1);
    QCOMPARE(back.at(0).settings.seed, running.settings.seed); // same seed, same name: the same image
    QCOMPARE(back.at(0).imagePath, running.imagePath);
    QCOMPARE(back.at(1).settings.prompt, u"third"_s);
    QCOMPARE(store.count(QueueStore::windowQueue(), ItemState::Done), 1);

    QueueModel queue(&store);
    QCOMPARE(queue.waitingCount(), 2);
    MainWindow window(&queue, m_thumbnails.get(), m_thumbnailFolder.filePath(u"killed-library.sqlite"_s),
                      Test::executablePath(u"atelier-worker"_s));
    window.show();
    useTinySettings(&window, out.path(), 3);
    QVERIFY(window.startRendering());
    QTRY_VERIFY_WITH_TIMEOUT(queue.waitingCount() == 0 && queue.countIn(ItemState::Running) == 0, 120000);
    window.stopRendering();
    QTRY_VERIFY_WITH_TIMEOUT(!window.isRendering(), 60000);
    const QStringList images = QDir(out.path()).entryList(QDir::Files | QDir::Hidden);
    QCOMPARE(images.size(), 3); // one image per prompt, no temp file left
    QVERIFY2(QFileInfo::exists(running.imagePath), qPrintable(images.join(u", "_s)));
    QCOMPARE(store.count(QueueStore::windowQueue(), ItemState::Done), 3);
}

QTEST_MAIN(TestMainWindow)
#include "TestMainWindow.moc"
