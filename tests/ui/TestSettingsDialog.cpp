// SPDX-License-Identifier: GPL-3.0-or-later
#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStyle>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>
#include <QTreeWidget>

#include <memory>

#include "SettingsDialog.h"
#include "Theme.h"
#include "ipc/Protocol.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int Timeout = 10000;

    bool writeFile(const QString& path, const QByteArray& bytes)
    {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile file(path);
        return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
    }

    /// A file checkModelPath() accepts.
    QByteArray safetensors()
    {
        const QByteArray header = R"({"__metadata__":{}})";
        QByteArray bytes(8, '\0');
        bytes[0] = char(header.size());
        return bytes + header + QByteArray(16, '\0');
    }

    /// The row of the model named @p name, or -1.
    int rowOf(const QTableWidget* table, const QString& name)
    {
        for (int row = 0; row < table->rowCount(); ++row) {
            if (table->item(row, 0)->text() == name) {
                return row;
            }
        }
        return -1;
    }

    QStringList names(const QTableWidget* table)
    {
        QStringList names;
        for (int row = 0; row < table->rowCount(); ++row) {
            names.append(table->item(row, 0)->text());
        }
        return names;
    }
} // namespace

class TestSettingsDialog final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void theTableFillsFromTheHuggingFaceCache();
    void anAddedFolderIsSearched();
    void removingAFolderRescans();
    void aModelBecomesTheDefault();
    void anUnusableModelCannotBeTheDefault();
    void anInvalidPatternDisablesOk();
    void theExampleFollowsTheTyping();
    void theExampleUsesTheDefaults();
    void aDarkThemeIsPreviewedAndCancelReverts();
    void applyKeepsTheTheme();
    void okEmitsApplied();
    void settingsRoundTrip();
    void theDefaultsKeepTheLimits();
    void closingWhileLookingForModels();
    void everyLabelHasABuddy();

private:
    static AppSettings changed();

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_added; ///< a folder with one model, not searched unless added
};

void TestSettingsDialog::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    // A home without webui or ComfyUI installs, and a Hugging Face cache with one model.
    const QString home = m_dir->filePath(u"home"_s);
    QVERIFY(QDir().mkpath(home));
    qputenv("HOME", QFile::encodeName(home));
    const QString cache = m_dir->filePath(u"hf-cache"_s);
    const QString repository = cache + u"/models--fake-org--fake-model"_s;
    QVERIFY(writeFile(repository + u"/refs/main"_s, "abc"));
    QVERIFY(
        writeFile(repository + u"/snapshots/abc/model_index.json"_s, R"({"_class_name": "StableDiffusionPipeline"})"));
    qputenv("HF_HUB_CACHE", QFile::encodeName(cache));

    m_added = m_dir->filePath(u"added"_s);
    QVERIFY(writeFile(m_added + u"/mine.safetensors"_s, safetensors()));
    QVERIFY(writeFile(m_added + u"/old.ckpt"_s, "pickle"));
}

void TestSettingsDialog::cleanup()
{
    QFile::remove(m_added + u"/later.safetensors"_s);
    applyTheme(Theme::System);
    QThreadPool::globalInstance()->waitForDone();
}

AppSettings TestSettingsDialog::changed()
{
    AppSettings s;
    s.automatic1111Roots = {u"/opt/webui"_s};
    s.comfyUiRoots = {u"/opt/ComfyUI"_s, u"/srv/ComfyUI"_s};
    s.modelFolders = {u"/models"_s};
    s.loraFolders = {u"/art/loras"_s, u"/art/more loras"_s};
    s.embeddingFolders = {u"/art/embeddings"_s};
    s.vaeFolders = {u"/art/vae"_s};
    s.modelPath = u"/models/dreamshaper_8.safetensors"_s;
    s.outputDirectory = u"/tmp/out"_s;
    s.namingPattern = u"[date]-[model_name]-[seed]"_s;
    s.steps = 33;
    s.cfgScale = 6.5;
    s.width = 768;
    s.height = 640;
    s.sampler = u"dpmpp_2m_karras"_s;
    s.negativePrompt = u"blurry\nlowres"_s;
    s.imagesPerPrompt = 4;
    s.maxBatch = 8;
    s.cpuWorkers = 2;
    s.theme = Theme::Light;
    return s;
}

void TestSettingsDialog::theTableFillsFromTheHuggingFaceCache()
{
    SettingsDialog dialog(AppSettings{});
    auto* table = dialog.findChild<QTableWidget*>(u"modelTable"_s);
    auto* status = dialog.findChild<QLabel*>(u"scanStatus"_s);
    QVERIFY(table && status);
    QVERIFY(dialog.isScanning());
    QCOMPARE(status->text(), u"Looking for models…"_s);
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 1, Timeout);
    QVERIFY(!dialog.isScanning());
    QCOMPARE(table->item(0, 0)->text(), u"fake-org/fake-model"_s);
    QCOMPARE(table->item(0, 1)->text(), u"Diffusers folder"_s);
    QCOMPARE(table->item(0, 2)->text(), u"Hugging Face cache"_s);
    QCOMPARE(table->item(0, 4)->text(), QString()); // no problem
    QVERIFY(status->text().startsWith(u"1 model"_s));
}

void TestSettingsDialog::anAddedFolderIsSearched()
{
    SettingsDialog dialog(AppSettings{});
    auto* table = dialog.findChild<QTableWidget*>(u"modelTable"_s);
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 1, Timeout);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy finished(&dialog, &SettingsDialog::scanFinished);
    dialog.addModelFolder(m_added);
    QVERIFY(dialog.isScanning());
    QVERIFY(finished.wait(Timeout));
    QCOMPARE(names(table), (QStringList{u"fake-org/fake-model"_s, u"mine"_s, u"old"_s}));
    QCOMPARE(table->item(rowOf(table, u"mine"_s), 2)->text(), u"Added folder"_s);
    QVERIFY(table->item(rowOf(table, u"old"_s), 4)->text().contains(u"pickle"_s));
    QCOMPARE(dialog.settings().modelFolders, QStringList{m_added});
    // Rescan finds what appeared meanwhile.
    QVERIFY(writeFile(m_added + u"/later.safetensors"_s, safetensors()));
    QTest::mouseClick(dialog.findChild<QPushButton*>(u"rescanButton"_s), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 4, Timeout);
}

void TestSettingsDialog::removingAFolderRescans()
{
    AppSettings settings;
    settings.modelFolders = {m_added};
    settings.automatic1111Roots = {m_dir->filePath(u"no-webui"_s)};
    SettingsDialog dialog(settings);
    auto* table = dialog.findChild<QTableWidget*>(u"modelTable"_s);
    auto* folders = dialog.findChild<QTreeWidget*>(u"folderList"_s);
    auto* remove = dialog.findChild<QPushButton*>(u"removeFolderButton"_s);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 3, Timeout);
    // The missing webui folder is named where the skipped places are.
    QVERIFY(dialog.findChild<QLabel*>(u"scanStatus"_s)->toolTip().contains(u"does not exist"_s));
    QCOMPARE(folders->topLevelItemCount(), 2);
    QVERIFY(!remove->isEnabled());
    folders->setCurrentItem(folders->topLevelItem(0));
    QVERIFY(remove->isEnabled());
    QTest::mouseClick(remove, Qt::LeftButton);
    QCOMPARE(folders->topLevelItemCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 1, Timeout);
    QVERIFY(dialog.settings().modelFolders.isEmpty());
    QCOMPARE(dialog.settings().automatic1111Roots, settings.automatic1111Roots);
}

void TestSettingsDialog::aModelBecomesTheDefault()
{
    AppSettings settings;
    settings.modelFolders = {m_added};
    SettingsDialog dialog(settings);
    auto* table = dialog.findChild<QTableWidget*>(u"modelTable"_s);
    auto* use = dialog.findChild<QPushButton*>(u"useModelButton"_s);
    auto* model = dialog.findChild<QLineEdit*>(u"modelEdit"_s);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 3, Timeout);
    QVERIFY(!use->isEnabled());
    table->selectRow(rowOf(table, u"mine"_s));
    QVERIFY(use->isEnabled());
    QTest::mouseClick(use, Qt::LeftButton);
    QCOMPARE(model->text(), m_added + u"/mine.safetensors"_s);
    QCOMPARE(dialog.settings().modelPath, m_added + u"/mine.safetensors"_s);
    QVERIFY(table->item(rowOf(table, u"mine"_s), 0)->font().bold());

    // Double-click picks one too.
    model->clear();
    const int row = rowOf(table, u"fake-org/fake-model"_s);
    const QRect cell = table->visualItemRect(table->item(row, 0));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QVERIFY(model->text().endsWith(u"models--fake-org--fake-model/snapshots/abc"_s));
    QVERIFY(!table->item(rowOf(table, u"mine"_s), 0)->font().bold());
}

void TestSettingsDialog::anUnusableModelCannotBeTheDefault()
{
    AppSettings settings;
    settings.modelFolders = {m_added};
    SettingsDialog dialog(settings);
    auto* table = dialog.findChild<QTableWidget*>(u"modelTable"_s);
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 3, Timeout);
    table->selectRow(rowOf(table, u"old"_s));
    QVERIFY(!dialog.findChild<QPushButton*>(u"useModelButton"_s)->isEnabled());
    emit table->activated(table->currentIndex()); // as a double-click or Enter would
    QCOMPARE(dialog.findChild<QLineEdit*>(u"modelEdit"_s)->text(), QString());
    QVERIFY(dialog.findChild<QLabel*>(u"scanStatus"_s)->text().contains(u"pickle"_s));
}

void TestSettingsDialog::anInvalidPatternDisablesOk()
{
    SettingsDialog dialog(AppSettings{});
    dialog.showPage(SettingsDialog::OutputPage);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto* pattern = dialog.findChild<QLineEdit*>(u"patternEdit"_s);
    auto* error = dialog.findChild<QLabel*>(u"patternError"_s);
    auto* example = dialog.findChild<QLabel*>(u"patternExample"_s);
    auto* buttons = dialog.findChild<QDialogButtonBox*>(u"buttons"_s);
    QPushButton* ok = buttons->button(QDialogButtonBox::Ok);
    QPushButton* apply = buttons->button(QDialogButtonBox::Apply);
    QVERIFY(ok->isEnabled() && apply->isEnabled());
    QVERIFY(error->isHidden());

    pattern->setFocus();
    pattern->selectAll();
    QTest::keyClicks(pattern, u"[seed]-[nope]"_s);
    QVERIFY(!ok->isEnabled());
    QVERIFY(!apply->isEnabled());
    QVERIFY(error->isVisible());
    QVERIFY2(error->text().contains(u"unknown token \"[nope]\""_s), qPrintable(error->text()));
    QCOMPARE(example->text(), QString());
    // Enter does not close the dialog with an invalid pattern.
    QSignalSpy applied(&dialog, &SettingsDialog::applied);
    dialog.accept();
    QVERIFY(dialog.isVisible());
    QCOMPARE(applied.count(), 0);

    QTest::keyClick(pattern, Qt::Key_End);
    for (int i = 0; i < 7; ++i) {
        QTest::keyClick(pattern, Qt::Key_Backspace);
    }
    QCOMPARE(pattern->text(), u"[seed]"_s);
    QVERIFY(ok->isEnabled() && apply->isEnabled());
    QVERIFY(error->isHidden());
    QTest::keyClicks(pattern, u"/x"_s);
    QVERIFY(error->text().contains(u"\"/\""_s));
    QVERIFY(!ok->isEnabled());
}

void TestSettingsDialog::theExampleFollowsTheTyping()
{
    SettingsDialog dialog(AppSettings{});
    auto* pattern = dialog.findChild<QLineEdit*>(u"patternEdit"_s);
    auto* example = dialog.findChild<QLabel*>(u"patternExample"_s);
    QCOMPARE(example->text(), u"Example: 00012-42-a-lighthouse-at-dusk-oil-painting.png"_s);
    pattern->clear();
    QCOMPARE(example->text(), QString()); // empty: invalid
    const QList<std::pair<QChar, QString>> typing{
        {u'[', QString()},
        {u's', QString()},
        {u'e', QString()},
        {u'e', QString()},
        {u'd', QString()},
        {u']', u"Example: 00012-42.png"_s},
        {u'_', u"Example: 00012-42_.png"_s},
        {u'x', u"Example: 00012-42_x.png"_s},
    };
    for (const auto& [key, shown] : typing) {
        QTest::keyClicks(pattern, QString(key));
        QCOMPARE(example->text(), shown);
    }
}

void TestSettingsDialog::theExampleUsesTheDefaults()
{
    SettingsDialog dialog(AppSettings{});
    auto* pattern = dialog.findChild<QLineEdit*>(u"patternEdit"_s);
    auto* example = dialog.findChild<QLabel*>(u"patternExample"_s);
    pattern->setText(u"[model_name]-[steps]-[width]x[height]-[sampler]"_s);
    QCOMPARE(example->text(), u"Example: 00012-embedded-20-512x512-default.png"_s);
    dialog.findChild<QLineEdit*>(u"modelEdit"_s)->setText(u"/m/dreamshaper_8.safetensors"_s);
    dialog.findChild<QSpinBox*>(u"stepsSpin"_s)->setValue(30);
    dialog.findChild<QSpinBox*>(u"widthSpin"_s)->setValue(768);
    auto* sampler = dialog.findChild<QComboBox*>(u"samplerCombo"_s);
    sampler->setCurrentIndex(sampler->findData(u"ddim"_s));
    QCOMPARE(example->text(), u"Example: 00012-dreamshaper_8-30-768x512-ddim.png"_s);
}

void TestSettingsDialog::aDarkThemeIsPreviewedAndCancelReverts()
{
    const QColor before = QApplication::palette().color(QPalette::Window);
    SettingsDialog dialog(AppSettings{});
    auto* theme = dialog.findChild<QComboBox*>(u"themeCombo"_s);
    QCOMPARE(QApplication::palette().color(QPalette::Window), before); // opening changes nothing
    theme->setCurrentIndex(theme->findData(int(Theme::Light)));
    const QColor light = QApplication::palette().color(QPalette::Window);
    theme->setCurrentIndex(theme->findData(int(Theme::Dark)));
    const QColor dark = QApplication::palette().color(QPalette::Window);
    QVERIFY2(dark.lightness() < light.lightness(), qPrintable(dark.name() + u" "_s + light.name()));
    QVERIFY(QApplication::palette().color(QPalette::WindowText).lightness() > dark.lightness());
    QCOMPARE(QApplication::style()->name().toLower(), u"fusion"_s);
    // And back and forth again.
    theme->setCurrentIndex(theme->findData(int(Theme::Light)));
    QCOMPARE(QApplication::palette().color(QPalette::Window), light);
    theme->setCurrentIndex(theme->findData(int(Theme::Dark)));
    QCOMPARE(QApplication::palette().color(QPalette::Window), dark);
    dialog.reject();
    QCOMPARE(QApplication::palette().color(QPalette::Window), before);
}

void TestSettingsDialog::applyKeepsTheTheme()
{
    const QColor before = QApplication::palette().color(QPalette::Window);
    {
        SettingsDialog dialog(AppSettings{});
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QSignalSpy applied(&dialog, &SettingsDialog::applied);
        auto* theme = dialog.findChild<QComboBox*>(u"themeCombo"_s);
        theme->setCurrentIndex(theme->findData(int(Theme::Dark)));
        const QColor dark = QApplication::palette().color(QPalette::Window);
        QTest::mouseClick(dialog.findChild<QDialogButtonBox*>(u"buttons"_s)->button(QDialogButtonBox::Apply),
                          Qt::LeftButton);
        QCOMPARE(applied.count(), 1);
        QCOMPARE(applied.at(0).at(0).value<AppSettings>().theme, Theme::Dark);
        // Light is previewed, then Cancel: back to what was applied.
        theme->setCurrentIndex(theme->findData(int(Theme::Light)));
        QVERIFY(QApplication::palette().color(QPalette::Window) != dark);
        dialog.reject();
        QCOMPARE(QApplication::palette().color(QPalette::Window), dark);
    }
    // A dialog destroyed while previewing puts the theme back too.
    {
        auto dialog = std::make_unique<SettingsDialog>(AppSettings{});
        auto* theme = dialog->findChild<QComboBox*>(u"themeCombo"_s);
        theme->setCurrentIndex(theme->findData(int(Theme::Dark)));
        dialog.reset();
        QCOMPARE(QApplication::palette().color(QPalette::Window), before);
    }
}

void TestSettingsDialog::okEmitsApplied()
{
    SettingsDialog dialog(changed());
    QSignalSpy applied(&dialog, &SettingsDialog::applied);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.findChild<QSpinBox*>(u"batchSpin"_s)->setValue(0);
    QTest::mouseClick(dialog.findChild<QDialogButtonBox*>(u"buttons"_s)->button(QDialogButtonBox::Ok), Qt::LeftButton);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(!dialog.isVisible());
    QCOMPARE(applied.count(), 1);
    AppSettings expected = changed();
    expected.maxBatch = 0;
    QCOMPARE(applied.at(0).at(0).value<AppSettings>(), expected);
}

void TestSettingsDialog::settingsRoundTrip()
{
    const AppSettings original = changed();
    SettingsDialog dialog(original);
    QCOMPARE(dialog.settings(), original);
    QCOMPARE(dialog.findChild<QSpinBox*>(u"batchSpin"_s)->text(), u"8"_s);
    QCOMPARE(dialog.findChild<QPlainTextEdit*>(u"negativeEdit"_s)->toPlainText(), original.negativePrompt);
    QCOMPARE(dialog.findChild<QComboBox*>(u"samplerCombo"_s)->currentText(), u"DPM++ 2M Karras"_s);
    // The LoRA, embedding and VAE folders are listed, and a removed one is gone from the settings.
    auto* loras = dialog.findChild<QListWidget*>(u"loraFolderList"_s);
    QVERIFY(loras && dialog.findChild<QListWidget*>(u"vaeFolderList"_s));
    QCOMPARE(loras->count(), 2);
    dialog.show();
    dialog.showPage(SettingsDialog::NetworksPage);
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    loras->setCurrentRow(0);
    QTest::mouseClick(dialog.findChild<QPushButton*>(u"loraFolderListRemove"_s), Qt::LeftButton);
    QCOMPARE(dialog.settings().loraFolders, QStringList{u"/art/more loras"_s});
    QCOMPARE(dialog.settings().vaeFolders, QStringList{u"/art/vae"_s});

    SettingsDialog defaults(AppSettings{});
    QCOMPARE(defaults.settings(), AppSettings());
    QCOMPARE(defaults.findChild<QSpinBox*>(u"batchSpin"_s)->text(), u"Automatic"_s);
    QCOMPARE(defaults.findChild<QComboBox*>(u"samplerCombo"_s)->currentText(), u"Model default"_s);
    // An empty output folder means the default one.
    defaults.findChild<QLineEdit*>(u"outputEdit"_s)->clear();
    QCOMPARE(defaults.settings().outputDirectory, AppSettings::defaultOutputDirectory());
}

void TestSettingsDialog::theDefaultsKeepTheLimits()
{
    SettingsDialog dialog(AppSettings{});
    auto* steps = dialog.findChild<QSpinBox*>(u"stepsSpin"_s);
    auto* cfg = dialog.findChild<QDoubleSpinBox*>(u"cfgSpin"_s);
    auto* width = dialog.findChild<QSpinBox*>(u"widthSpin"_s);
    auto* images = dialog.findChild<QSpinBox*>(u"imagesSpin"_s);
    auto* batch = dialog.findChild<QSpinBox*>(u"batchSpin"_s);
    QCOMPARE(steps->minimum(), RenderLimits::MinSteps);
    QCOMPARE(steps->maximum(), RenderLimits::MaxSteps);
    QCOMPARE(cfg->minimum(), RenderLimits::MinCfgScale);
    QCOMPARE(cfg->maximum(), RenderLimits::MaxCfgScale);
    QCOMPARE(width->minimum(), RenderLimits::MinSide);
    QCOMPARE(width->maximum(), RenderLimits::MaxSide);
    QCOMPARE(images->maximum(), AppSettings::MaxImagesPerPrompt);
    QCOMPARE(batch->minimum(), 0);
    QCOMPARE(batch->maximum(), Ipc::MaxBatch);
    // A side that is not a multiple of 8 is rounded up, as the image will be.
    width->setValue(100);
    QCOMPARE(dialog.settings().width, 104);
    QVERIFY(dialog.settings().renderDefaults().problems().isEmpty());
}

void TestSettingsDialog::closingWhileLookingForModels()
{
    for (int i = 0; i < 20; ++i) {
        AppSettings settings;
        settings.modelFolders = {m_added, QDir::rootPath()}; // "/": long enough to still run
        auto dialog = std::make_unique<SettingsDialog>(settings);
        QVERIFY(dialog->isScanning());
        if (i % 2) {
            dialog->rescan(); // two searches at once, the first dropped
        }
        dialog.reset();
    }
    QVERIFY(QThreadPool::globalInstance()->waitForDone(Timeout));
    QCoreApplication::processEvents();
}

// Each label that has a mnemonic leads to a field, so the keyboard reaches every setting.
void TestSettingsDialog::everyLabelHasABuddy()
{
    SettingsDialog dialog(AppSettings{});
    int withMnemonic = 0;
    for (const QLabel* label : dialog.findChildren<QLabel*>()) {
        if (label->text().contains(u'&')) {
            ++withMnemonic;
            QVERIFY2(label->buddy(), qPrintable(label->text()));
        }
    }
    QVERIFY(withMnemonic >= 12);
}

QTEST_MAIN(TestSettingsDialog)
#include "TestSettingsDialog.moc"
