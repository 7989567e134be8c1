// SPDX-License-Identifier: GPL-3.0-or-later
#include "MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QDirIterator>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpressionValidator>
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QThread>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include <limits>

#include "ActionText.h"
#include "BuildInfo.h"
#include "DeviceBoardModel.h"
#include "GalleryPanel.h"
#include "ProgressDelegate.h"
#include "SettingsDialog.h"
#include "Theme.h"
#include "import/PromptImport.h"
#include "orchestration/Coordinator.h"
#include "queue/QueueModel.h"
#include "render/ImageMetadata.h"
#include "render/PngText.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        /// The sampler box's choices: "" (the model's own sampler), then Atelier's samplers.
        QStringList samplerChoices()
        {
            return QStringList{QString()} + samplerNames();
        }

    } // namespace

    MainWindow::MainWindow(QueueModel* queue, ThumbnailCache* thumbnails, const QString& libraryPath,
                           const QString& workerProgram, QWidget* parent)
        : QMainWindow(parent)
        , m_queue(queue)
        , m_workerProgram(workerProgram.isEmpty() ? QCoreApplication::applicationDirPath() + u"/atelier-worker"_s
                                                  : workerProgram)
        , m_gallery(new GalleryPanel(libraryPath, thumbnails, this))
        , m_board(new DeviceBoardModel(this))
        , m_summaryTimer(new QTimer(this))
    {
        setObjectName(u"MainWindow"_s);
        setWindowIcon(QIcon(u":/icons/atelier.svg"_s));
        setAcceptDrops(true);
        buildActions();

        auto* left = new QSplitter(Qt::Vertical, this);
        left->addWidget(buildEditor());
        auto* middle = new QSplitter(Qt::Vertical, this);
        middle->addWidget(buildQueue());
        middle->addWidget(buildDevices());
        middle->setStretchFactor(0, 3);
        middle->setStretchFactor(1, 1);
        auto* top = new QSplitter(Qt::Horizontal, this);
        top->addWidget(left);
        top->addWidget(middle);
        top->setStretchFactor(0, 2);
        top->setStretchFactor(1, 3);
        auto* main = new QSplitter(Qt::Vertical, this);
        main->addWidget(top);
        main->addWidget(m_gallery);
        main->setStretchFactor(0, 3);
        main->setStretchFactor(1, 2);
        // The gallery gets two fifths of the height from the start: room for a row of tiles with their captions.
        main->setSizes({540, 360});
        top->setSizes({560, 840});
        setCentralWidget(main);

        m_statusLabel = new QLabel(this);
        m_statusLabel->setObjectName(u"statusLabel"_s);
        m_summaryLabel = new QLabel(this);
        m_summaryLabel->setObjectName(u"summaryLabel"_s);
        statusBar()->addWidget(m_statusLabel, 1);
        statusBar()->addPermanentWidget(m_summaryLabel);

        // Progress arrives many times a second from every worker; the summary is redrawn at most every 200 ms.
        m_summaryTimer->setSingleShot(true);
        m_summaryTimer->setInterval(200);
        connect(m_summaryTimer, &QTimer::timeout, this, &MainWindow::updateSummary);
        connect(m_queue, &QueueModel::waitingChanged, this, [this] {
            checkQueueRanEmpty();
            updateActions();
            scheduleSummary();
        });
        connect(m_queue, &QAbstractItemModel::dataChanged, this, &MainWindow::scheduleSummary);
        connect(m_queue, &QueueModel::storeFailed, this, [this](const QString& reason) {
            m_statusLabel->setText(tr("The queue could not be saved: %1").arg(reason));
        });
        connect(m_board, &DeviceBoardModel::useChanged, this, &MainWindow::deviceUseChanged);
        connect(m_gallery, &GalleryPanel::message, m_statusLabel, &QLabel::setText);
        connect(m_gallery, &GalleryPanel::useSettingsRequested, this, [this](const RenderSettings& settings) {
            fillEditor(settings);
            m_promptEdit->setFocus();
            m_statusLabel->setText(tr("The editor has the image's prompt and settings."));
        });
        connect(m_gallery, &GalleryPanel::requeueRequested, this, [this](const QList<RenderSettings>& items) {
            m_queue->add(items);
            m_statusLabel->setText(tr("Queued %n image(s) again.", nullptr, int(items.size())));
        });
        connect(m_outputEdit, &QLineEdit::editingFinished, this, &MainWindow::updateWatchedFolders);

        loadSettings();
        updateWatchedFolders();
        listDevices();
        retranslate();
        resize(1400, 900);
    }

    MainWindow::~MainWindow()
    {
        if (m_deviceProbe) {
            // A window closed within a second of opening: the probe is not needed any more.
            m_deviceProbe->disconnect(this);
            m_deviceProbe->kill();
            m_deviceProbe->waitForFinished(1000);
        }
    }

    void MainWindow::buildActions()
    {
        auto action = [this](const char* name, const QKeySequence& shortcut = {}) {
            auto* a = new QAction(this);
            a->setObjectName(QString::fromLatin1(name));
            a->setShortcut(shortcut);
            // Shortcuts work wherever the focus is in the window (the queue's own ones too).
            a->setShortcutContext(Qt::WindowShortcut);
            addAction(a);
            return a;
        };
        m_addAction = action("addAction", QKeySequence(Qt::CTRL | Qt::Key_Return));
        m_addFirstAction = action("addFirstAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return));
        m_renderAction = action("renderAction", QKeySequence(Qt::Key_F5));
        m_pauseAction = action("pauseAction", QKeySequence(Qt::Key_F6));
        m_pauseAction->setCheckable(true);
        m_editAction = action("editAction", QKeySequence(Qt::Key_F2));
        m_duplicateAction = action("duplicateAction", QKeySequence(Qt::CTRL | Qt::Key_D));
        m_moveTopAction = action("moveTopAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Up));
        m_moveBottomAction = action("moveBottomAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Down));
        m_retryAction = action("retryAction", QKeySequence(Qt::CTRL | Qt::Key_R));
        m_cancelAction = action("cancelAction", QKeySequence(Qt::CTRL | Qt::Key_Period));
        m_removeAction = action("removeAction", QKeySequence::Delete);
        m_removeAction->setShortcutContext(Qt::WidgetShortcut);
        m_clearFinishedAction = action("clearFinishedAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Delete));
        m_importAction = action("importAction", QKeySequence::Open);
        m_pasteParametersAction = action("pasteParametersAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V));
        m_aboutAction = action("aboutAction");
        m_settingsAction = action("settingsAction", QKeySequence(Qt::CTRL | Qt::Key_Comma));
        m_addLibraryFolderAction = action("addLibraryFolderAction");
        m_quitAction = action("quitAction", QKeySequence::Quit);

        // Ctrl+Enter adds from either editor, the way chat and prompt tools do; Shift puts it first.
        connect(m_addAction, &QAction::triggered, this, [this] {
            if (m_editing) {
                saveEdit();
            } else {
                addFromEditor(false);
            }
        });
        connect(m_addFirstAction, &QAction::triggered, this, [this] {
            if (!m_editing) {
                addFromEditor(true);
            }
        });
        connect(m_renderAction, &QAction::triggered, this, [this] {
            if (isRendering()) {
                stopRendering();
            } else {
                startRendering();
            }
        });
        connect(m_pauseAction, &QAction::toggled, this, &MainWindow::setPaused);
        connect(m_editAction, &QAction::triggered, this, [this] {
            const QList<qint64> ids = selectedItems();
            if (ids.size() == 1) {
                editItem(ids.constFirst());
            }
        });
        connect(m_duplicateAction, &QAction::triggered, this, &MainWindow::duplicateSelected);
        connect(m_moveTopAction, &QAction::triggered, this, &MainWindow::moveSelectedToTop);
        connect(m_moveBottomAction, &QAction::triggered, this, &MainWindow::moveSelectedToBottom);
        connect(m_retryAction, &QAction::triggered, this, &MainWindow::retrySelected);
        connect(m_cancelAction, &QAction::triggered, this, &MainWindow::cancelSelected);
        connect(m_removeAction, &QAction::triggered, this, &MainWindow::removeSelected);
        connect(m_clearFinishedAction, &QAction::triggered, this, &MainWindow::clearFinished);
        connect(m_importAction, &QAction::triggered, this, &MainWindow::chooseFilesToImport);
        connect(m_pasteParametersAction, &QAction::triggered, this,
                [this] { applyParameters(QGuiApplication::clipboard()->text(), false, tr("the clipboard")); });
        connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
        connect(m_settingsAction, &QAction::triggered, this, &MainWindow::showSettings);
        connect(m_addLibraryFolderAction, &QAction::triggered, this, [this] {
            const QString folder = QFileDialog::getExistingDirectory(this, tr("Add a folder to the gallery"));
            if (!folder.isEmpty()) {
                addLibraryFolder(folder);
            }
        });
        connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

        m_fileMenu = menuBar()->addMenu(QString());
        m_fileMenu->addAction(m_importAction);
        m_fileMenu->addAction(m_pasteParametersAction);
        m_fileMenu->addSeparator();
        m_fileMenu->addAction(m_settingsAction);
        m_fileMenu->addSeparator();
        m_fileMenu->addAction(m_quitAction);
        m_queueMenu = menuBar()->addMenu(QString());
        m_queueMenu->addActions({m_addAction, m_addFirstAction});
        m_queueMenu->addSeparator();
        m_queueMenu->addActions({m_renderAction, m_pauseAction});
        m_queueMenu->addSeparator();
        m_queueMenu->addActions({m_editAction, m_duplicateAction, m_moveTopAction, m_moveBottomAction, m_retryAction,
                                 m_cancelAction, m_removeAction, m_clearFinishedAction});
        m_galleryMenu = menuBar()->addMenu(QString());
        m_galleryMenu->addActions(m_gallery->imageActions());
        m_galleryMenu->addSeparator();
        m_galleryMenu->addAction(m_gallery->undoTrashAction());
        m_galleryMenu->addAction(m_gallery->rescanAction());
        m_galleryMenu->addAction(m_addLibraryFolderAction);
        m_helpMenu = menuBar()->addMenu(QString());
        m_helpMenu->addAction(m_aboutAction);
    }

    QWidget* MainWindow::buildEditor()
    {
        auto* panel = new QWidget(this);
        m_promptLabel = new QLabel(panel);
        m_promptEdit = new QPlainTextEdit(panel);
        m_negativeLabel = new QLabel(panel);
        m_negativeEdit = new QPlainTextEdit(panel);
        m_promptEdit->setObjectName(u"promptEdit"_s);
        m_negativeEdit->setObjectName(u"negativeEdit"_s);
        m_promptEdit->setTabChangesFocus(true);
        m_negativeEdit->setTabChangesFocus(true);
        m_negativeEdit->setMaximumHeight(m_negativeEdit->fontMetrics().lineSpacing() * 4);
        m_promptLabel->setBuddy(m_promptEdit);
        m_negativeLabel->setBuddy(m_negativeEdit);

        m_settingsBox = new QGroupBox(panel);
        m_seedLabel = new QLabel(m_settingsBox);
        m_seedEdit = new QLineEdit(m_settingsBox);
        m_randomSeedCheck = new QCheckBox(m_settingsBox);
        m_imagesLabel = new QLabel(m_settingsBox);
        m_imagesSpin = new QSpinBox(m_settingsBox);
        m_stepsLabel = new QLabel(m_settingsBox);
        m_stepsSpin = new QSpinBox(m_settingsBox);
        m_cfgLabel = new QLabel(m_settingsBox);
        m_cfgSpin = new QDoubleSpinBox(m_settingsBox);
        m_sizeLabel = new QLabel(m_settingsBox);
        m_widthSpin = new QSpinBox(m_settingsBox);
        m_heightSpin = new QSpinBox(m_settingsBox);
        m_samplerLabel = new QLabel(m_settingsBox);
        m_samplerCombo = new QComboBox(m_settingsBox);
        m_clipSkipLabel = new QLabel(m_settingsBox);
        m_clipSkipSpin = new QSpinBox(m_settingsBox);
        m_initImageLabel = new QLabel(m_settingsBox);
        m_initImageEdit = new QLineEdit(m_settingsBox);
        m_initImageButton = new QToolButton(m_settingsBox);
        m_strengthLabel = new QLabel(m_settingsBox);
        m_strengthSpin = new QDoubleSpinBox(m_settingsBox);
        m_hiresCheck = new QCheckBox(m_settingsBox);
        m_hiresScaleSpin = new QDoubleSpinBox(m_settingsBox);
        m_hiresUpscalerCombo = new QComboBox(m_settingsBox);
        m_hiresStepsSpin = new QSpinBox(m_settingsBox);
        m_vaeLabel = new QLabel(m_settingsBox);
        m_vaeCombo = new QComboBox(m_settingsBox);
        m_vaeButton = new QToolButton(m_settingsBox);
        m_initImageEdit->setObjectName(u"initImageEdit"_s);
        m_strengthSpin->setObjectName(u"strengthSpin"_s);
        m_hiresCheck->setObjectName(u"hiresCheck"_s);
        m_hiresScaleSpin->setObjectName(u"hiresScaleSpin"_s);
        m_hiresUpscalerCombo->setObjectName(u"hiresUpscalerCombo"_s);
        m_hiresStepsSpin->setObjectName(u"hiresStepsSpin"_s);
        m_vaeCombo->setObjectName(u"vaeCombo"_s);
        m_initImageButton->setText(u"…"_s);
        m_vaeButton->setText(u"…"_s);
        m_strengthSpin->setRange(0.01, RenderLimits::MaxDenoisingStrength);
        m_strengthSpin->setSingleStep(0.05);
        m_strengthSpin->setDecimals(2);
        m_strengthSpin->setValue(RenderDefaults::HiresStrength);
        // Above 1 only: a scale of 1 is the fix turned off, which the check box says.
        m_hiresScaleSpin->setRange(1.05, RenderLimits::MaxHiresScale);
        m_hiresScaleSpin->setSingleStep(0.25);
        m_hiresScaleSpin->setDecimals(2);
        m_hiresScaleSpin->setPrefix(u"× "_s);
        m_hiresScaleSpin->setValue(RenderDefaults::HiresScale);
        for (const QStringView upscaler : {u"Latent", u"Lanczos"}) {
            m_hiresUpscalerCombo->addItem(upscaler.toString(), upscaler.toString());
        }
        m_hiresStepsSpin->setRange(0, RenderLimits::MaxSteps);
        m_hiresStepsSpin->setValue(RenderDefaults::HiresSteps);
        m_vaeCombo->addItem(QString(), QString());
        connect(m_initImageEdit, &QLineEdit::textChanged, this, &MainWindow::updateImageControls);
        connect(m_hiresCheck, &QCheckBox::toggled, this, &MainWindow::updateImageControls);
        connect(m_initImageButton, &QToolButton::clicked, this, &MainWindow::chooseInitImage);
        connect(m_vaeButton, &QToolButton::clicked, this, &MainWindow::chooseVae);
        m_seedEdit->setObjectName(u"seedEdit"_s);
        m_randomSeedCheck->setObjectName(u"randomSeedCheck"_s);
        m_imagesSpin->setObjectName(u"imagesSpin"_s);
        m_stepsSpin->setObjectName(u"stepsSpin"_s);
        m_cfgSpin->setObjectName(u"cfgSpin"_s);
        m_widthSpin->setObjectName(u"widthSpin"_s);
        m_heightSpin->setObjectName(u"heightSpin"_s);
        m_samplerCombo->setObjectName(u"samplerCombo"_s);
        m_clipSkipSpin->setObjectName(u"clipSkipSpin"_s);

        // Seeds are 64-bit; A1111 draws 32-bit ones, which is what "random" gives too.
        m_seedEdit->setValidator(new QRegularExpressionValidator(QRegularExpression(u"[0-9]{1,20}"_s), m_seedEdit));
        connect(m_randomSeedCheck, &QCheckBox::toggled, m_seedEdit, &QWidget::setDisabled);
        m_randomSeedCheck->setChecked(true);
        m_imagesSpin->setRange(1, AppSettings::MaxImagesPerPrompt);
        m_stepsSpin->setRange(RenderLimits::MinSteps, RenderLimits::MaxSteps);
        m_cfgSpin->setRange(RenderLimits::MinCfgScale, RenderLimits::MaxCfgScale);
        m_cfgSpin->setSingleStep(0.5);
        m_cfgSpin->setDecimals(1);
        m_clipSkipSpin->setRange(RenderLimits::MinClipSkip, RenderLimits::MaxClipSkip);
        for (QSpinBox* side : {m_widthSpin, m_heightSpin}) {
            side->setRange(RenderLimits::MinSide, RenderLimits::MaxSide);
            side->setSingleStep(64);
            side->setSuffix(u" px"_s);
            // The VAE works in blocks of 8 pixels: a typed 100 becomes 104, the size the image will have.
            connect(side, &QSpinBox::editingFinished, side, [side] {
                const int multiple = RenderLimits::SideMultiple;
                side->setValue((side->value() + multiple - 1) / multiple * multiple);
            });
        }
        for (const QString& sampler : samplerChoices()) {
            m_samplerCombo->addItem(QString(), sampler);
        }
        auto* seedRow = new QHBoxLayout;
        seedRow->addWidget(m_seedEdit, 1);
        seedRow->addWidget(m_randomSeedCheck);
        auto* sizeRow = new QHBoxLayout;
        sizeRow->addWidget(m_widthSpin);
        sizeRow->addWidget(new QLabel(u"×"_s, m_settingsBox));
        sizeRow->addWidget(m_heightSpin);
        auto* form = new QFormLayout(m_settingsBox);
        form->addRow(m_seedLabel, seedRow);
        form->addRow(m_imagesLabel, m_imagesSpin);
        form->addRow(m_stepsLabel, m_stepsSpin);
        form->addRow(m_cfgLabel, m_cfgSpin);
        form->addRow(m_sizeLabel, sizeRow);
        form->addRow(m_samplerLabel, m_samplerCombo);
        form->addRow(m_clipSkipLabel, m_clipSkipSpin);
        auto* initRow = new QHBoxLayout;
        initRow->addWidget(m_initImageEdit, 1);
        initRow->addWidget(m_initImageButton);
        form->addRow(m_initImageLabel, initRow);
        auto* hiresRow = new QHBoxLayout;
        hiresRow->addWidget(m_hiresCheck);
        hiresRow->addWidget(m_hiresScaleSpin);
        hiresRow->addWidget(m_hiresUpscalerCombo);
        hiresRow->addWidget(m_hiresStepsSpin);
        form->addRow(QString(), hiresRow);
        form->addRow(m_strengthLabel, m_strengthSpin);
        auto* vaeRow = new QHBoxLayout;
        vaeRow->addWidget(m_vaeCombo, 1);
        vaeRow->addWidget(m_vaeButton);
        form->addRow(m_vaeLabel, vaeRow);
        m_initImageLabel->setBuddy(m_initImageEdit);
        m_strengthLabel->setBuddy(m_strengthSpin);
        m_vaeLabel->setBuddy(m_vaeCombo);
        updateImageControls();
        m_seedLabel->setBuddy(m_seedEdit);
        m_imagesLabel->setBuddy(m_imagesSpin);
        m_stepsLabel->setBuddy(m_stepsSpin);
        m_cfgLabel->setBuddy(m_cfgSpin);
        m_sizeLabel->setBuddy(m_widthSpin);
        m_samplerLabel->setBuddy(m_samplerCombo);
        m_clipSkipLabel->setBuddy(m_clipSkipSpin);

        m_runBox = new QGroupBox(panel);
        m_modelLabel = new QLabel(m_runBox);
        m_modelEdit = new QLineEdit(m_runBox);
        m_modelButton = new QToolButton(m_runBox);
        m_outputLabel = new QLabel(m_runBox);
        m_outputEdit = new QLineEdit(m_runBox);
        m_outputButton = new QToolButton(m_runBox);
        m_modelEdit->setObjectName(u"modelEdit"_s);
        m_outputEdit->setObjectName(u"outputEdit"_s);
        m_modelButton->setText(u"…"_s);
        m_outputButton->setText(u"…"_s);
        auto* modelRow = new QHBoxLayout;
        modelRow->addWidget(m_modelEdit, 1);
        modelRow->addWidget(m_modelButton);
        auto* outputRow = new QHBoxLayout;
        outputRow->addWidget(m_outputEdit, 1);
        outputRow->addWidget(m_outputButton);
        auto* runForm = new QFormLayout(m_runBox);
        runForm->addRow(m_modelLabel, modelRow);
        runForm->addRow(m_outputLabel, outputRow);
        m_modelLabel->setBuddy(m_modelEdit);
        m_outputLabel->setBuddy(m_outputEdit);
        connect(m_modelButton, &QToolButton::clicked, this, &MainWindow::chooseModel);
        connect(m_outputButton, &QToolButton::clicked, this, &MainWindow::chooseOutputFolder);

        m_editingLabel = new QLabel(panel);
        m_editingLabel->setObjectName(u"editingLabel"_s);
        m_editingLabel->setVisible(false);
        m_addButton = new QPushButton(panel);
        m_addFirstButton = new QPushButton(panel);
        m_saveEditButton = new QPushButton(panel);
        m_cancelEditButton = new QPushButton(panel);
        m_addButton->setObjectName(u"addButton"_s);
        m_addFirstButton->setObjectName(u"addFirstButton"_s);
        m_saveEditButton->setObjectName(u"saveEditButton"_s);
        m_cancelEditButton->setObjectName(u"cancelEditButton"_s);
        m_saveEditButton->setVisible(false);
        m_cancelEditButton->setVisible(false);
        connect(m_addButton, &QPushButton::clicked, this, [this] { addFromEditor(false); });
        connect(m_addFirstButton, &QPushButton::clicked, this, [this] { addFromEditor(true); });
        connect(m_saveEditButton, &QPushButton::clicked, this, &MainWindow::saveEdit);
        connect(m_cancelEditButton, &QPushButton::clicked, this, &MainWindow::cancelEdit);
        connect(m_promptEdit, &QPlainTextEdit::textChanged, this, &MainWindow::updateActions);

        auto* buttons = new QHBoxLayout;
        buttons->addWidget(m_editingLabel, 1);
        buttons->addStretch();
        buttons->addWidget(m_cancelEditButton);
        buttons->addWidget(m_saveEditButton);
        buttons->addWidget(m_addFirstButton);
        buttons->addWidget(m_addButton);
        auto* column = new QVBoxLayout(panel);
        column->addWidget(m_promptLabel);
        column->addWidget(m_promptEdit, 3);
        column->addWidget(m_negativeLabel);
        column->addWidget(m_negativeEdit, 1);
        column->addWidget(m_settingsBox);
        column->addLayout(buttons);
        column->addWidget(m_runBox);
        return panel;
    }

    QWidget* MainWindow::buildQueue()
    {
        auto* panel = new QWidget(this);
        m_queueLabel = new QLabel(panel);
        m_queueBar = new QToolBar(panel);
        m_queueBar->setObjectName(u"queueBar"_s);
        m_queueBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
        m_queueBar->addActions({m_pauseAction, m_editAction, m_duplicateAction, m_moveTopAction, m_moveBottomAction,
                                m_retryAction, m_cancelAction, m_removeAction, m_clearFinishedAction});
        m_renderButton = new QPushButton(panel);
        m_renderButton->setObjectName(u"renderButton"_s);
        connect(m_renderButton, &QPushButton::clicked, m_renderAction, &QAction::trigger);

        m_queueView = new QTableView(panel);
        m_queueView->setObjectName(u"queueView"_s);
        m_queueView->setModel(m_queue);
        m_queueView->setSelectionBehavior(QAbstractItemView::SelectRows);
        m_queueView->setSelectionMode(QAbstractItemView::ExtendedSelection);
        // DragDrop, not InternalMove, which Qt ties to the drag's source widget; the model accepts only its own items.
        m_queueView->setDragDropMode(QAbstractItemView::DragDrop);
        m_queueView->setDefaultDropAction(Qt::MoveAction);
        m_queueView->setDropIndicatorShown(true);
        m_queueView->setDragDropOverwriteMode(false);
        m_queueView->setEditTriggers(QAbstractItemView::NoEditTriggers);
        m_queueView->setWordWrap(false);
        m_queueView->verticalHeader()->hide();
        m_queueView->horizontalHeader()->setSectionResizeMode(QueueModel::PromptColumn, QHeaderView::Stretch);
        m_queueView->horizontalHeader()->setSectionResizeMode(QueueModel::SettingsColumn,
                                                              QHeaderView::ResizeToContents);
        m_queueView->horizontalHeader()->setSectionResizeMode(QueueModel::AttemptsColumn,
                                                              QHeaderView::ResizeToContents);
        m_queueView->setColumnWidth(QueueModel::StateColumn, 220);
        // Room for the preview or thumbnail a QueueTableModel gives each row.
        m_queueView->setIconSize(QSize(48, 48));
        m_queueView->verticalHeader()->setDefaultSectionSize(52);
        m_queueView->setItemDelegateForColumn(QueueModel::StateColumn,
                                              new ProgressDelegate(QueueModel::ProgressRole, m_queueView));
        m_queueView->setContextMenuPolicy(Qt::ActionsContextMenu);
        m_queueView->addActions({m_editAction, m_duplicateAction, m_moveTopAction, m_moveBottomAction, m_retryAction,
                                 m_cancelAction, m_removeAction});
        // Delete removes rows only where the queue has the focus: elsewhere it deletes text.
        removeAction(m_removeAction);
        connect(m_queueView, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
            if (index.data(QueueModel::StateRole).toInt() == int(ItemState::Queued)) {
                editItem(index.data(QueueModel::ItemIdRole).toLongLong());
            }
        });
        connect(m_queueView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
                &MainWindow::updateActions);
        connect(m_queue, &QAbstractItemModel::dataChanged, this, &MainWindow::updateActions);
        connect(m_queue, &QAbstractItemModel::rowsRemoved, this, [this] {
            // The item being edited was removed (or taken by a worker and finished): nothing to save to.
            if (m_editing && !m_queue->item(*m_editing)) {
                cancelEdit();
            }
        });

        auto* header = new QHBoxLayout;
        header->addWidget(m_queueLabel);
        header->addStretch();
        header->addWidget(m_renderButton);
        auto* column = new QVBoxLayout(panel);
        column->addLayout(header);
        column->addWidget(m_queueBar);
        column->addWidget(m_queueView, 1);
        return panel;
    }

    QWidget* MainWindow::buildDevices()
    {
        auto* panel = new QWidget(this);
        m_devicesLabel = new QLabel(panel);
        m_deviceView = new QTableView(panel);
        m_deviceView->setObjectName(u"deviceView"_s);
        m_deviceView->setModel(m_board);
        m_deviceView->setSelectionMode(QAbstractItemView::NoSelection);
        m_deviceView->setEditTriggers(QAbstractItemView::NoEditTriggers);
        m_deviceView->setWordWrap(false);
        m_deviceView->verticalHeader()->hide();
        m_deviceView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
        m_deviceView->horizontalHeader()->setSectionResizeMode(DeviceBoardModel::ItemColumn, QHeaderView::Stretch);
        // Wide enough for the bar to read as one ("120/150"), whatever the text measured when the run started.
        m_deviceView->horizontalHeader()->setSectionResizeMode(DeviceBoardModel::ProgressColumn, QHeaderView::Fixed);
        m_deviceView->horizontalHeader()->resizeSection(
            DeviceBoardModel::ProgressColumn, m_deviceView->fontMetrics().horizontalAdvance(u"000/000"_s) * 2);
        m_deviceView->setItemDelegateForColumn(DeviceBoardModel::ProgressColumn,
                                               new ProgressDelegate(DeviceBoardModel::ProgressRole, m_deviceView));
        m_devicesLabel->setBuddy(m_deviceView);
        auto* column = new QVBoxLayout(panel);
        column->addWidget(m_devicesLabel);
        column->addWidget(m_deviceView, 1);
        return panel;
    }

    RenderSettings MainWindow::editorDefaults() const
    {
        RenderSettings defaults;
        defaults.steps = m_stepsSpin->value();
        defaults.cfgScale = m_cfgSpin->value();
        defaults.width = m_widthSpin->value();
        defaults.height = m_heightSpin->value();
        defaults.scheduler = m_samplerCombo->currentData().toString();
        defaults.clipSkip = m_clipSkipSpin->value();
        // The hires fix and the VAE are said even when off, so that an item keeps them whatever the run's defaults.
        defaults.hiresScale = m_hiresCheck->isChecked() ? m_hiresScaleSpin->value() : RenderLimits::MinHiresScale;
        if (m_hiresCheck->isChecked()) {
            defaults.hiresSteps = m_hiresStepsSpin->value();
            defaults.hiresUpscaler = m_hiresUpscalerCombo->currentData().toString();
            defaults.denoisingStrength = m_strengthSpin->value();
        }
        defaults.vae = m_vaeCombo->currentData().toString();
        return defaults;
    }

    QList<RenderSettings> MainWindow::itemsFromEditor() const
    {
        RenderSettings item = editorDefaults();
        if (const QString init = m_initImageEdit->text().trimmed(); !init.isEmpty()) {
            item.initImage = QFileInfo(init).absoluteFilePath();
            item.denoisingStrength = m_strengthSpin->value();
            item.hiresScale = RenderLimits::MinHiresScale;
            item.hiresSteps.reset();
            item.hiresUpscaler.reset();
        }
        item.prompt = m_promptEdit->toPlainText().trimmed();
        item.negativePrompt = m_negativeEdit->toPlainText().trimmed();
        if (item.prompt.isEmpty()) {
            return {};
        }
        // Drawn now, not at dispatch, so that the queue shows each item's seed and N images get s, s + 1, ….
        bool typed = false;
        const quint64 typedSeed = m_seedEdit->text().toULongLong(&typed);
        const quint64 first
            = m_randomSeedCheck->isChecked() || !typed ? QRandomGenerator::global()->generate() : typedSeed;
        const int count = m_editing ? 1 : m_imagesSpin->value();
        QList<RenderSettings> items;
        for (int i = 0; i < count; ++i) {
            item.seed = first + static_cast<quint64>(i);
            items.append(item);
        }
        return items;
    }

    qsizetype MainWindow::addFromEditor(bool atFront)
    {
        const QList<RenderSettings> items = itemsFromEditor();
        if (items.isEmpty()) {
            return 0;
        }
        const qsizetype added = m_queue->add(items, atFront).size();
        if (added > 0) {
            m_promptEdit->clear();
            m_promptEdit->setFocus();
            m_statusLabel->setText(atFront ? tr("Queued %n image(s) first", nullptr, int(added))
                                           : tr("Queued %n image(s)", nullptr, int(added)));
        }
        return added;
    }

    void MainWindow::fillEditor(const RenderSettings& settings)
    {
        m_promptEdit->setPlainText(settings.prompt);
        m_negativeEdit->setPlainText(settings.negativePrompt);
        m_randomSeedCheck->setChecked(!settings.seed.has_value());
        m_seedEdit->setText(settings.seed ? QString::number(*settings.seed) : QString());
        if (settings.steps) {
            m_stepsSpin->setValue(*settings.steps);
        }
        if (settings.cfgScale) {
            m_cfgSpin->setValue(*settings.cfgScale);
        }
        if (settings.width) {
            m_widthSpin->setValue(*settings.width);
        }
        if (settings.height) {
            m_heightSpin->setValue(*settings.height);
        }
        if (settings.scheduler) {
            m_samplerCombo->setCurrentIndex(std::max(0, m_samplerCombo->findData(*settings.scheduler)));
        }
        if (settings.clipSkip) {
            m_clipSkipSpin->setValue(*settings.clipSkip);
        }
        // What the settings do not name is off: no init image, no hires fix, the model's VAE.
        m_initImageEdit->setText(settings.initImage.value_or(QString()));
        m_hiresCheck->setChecked(settings.hiresEnabled());
        if (settings.hiresEnabled()) {
            m_hiresScaleSpin->setValue(*settings.hiresScale);
            m_hiresStepsSpin->setValue(settings.hiresSteps.value_or(RenderDefaults::HiresSteps));
            m_hiresUpscalerCombo->setCurrentIndex(
                std::max(0,
                         m_hiresUpscalerCombo->findData(
                             settings.hiresUpscaler.value_or(RenderDefaults::HiresUpscaler.toString()))));
        }
        if (const std::optional<double> strength = settings.effectiveDenoisingStrength()) {
            m_strengthSpin->setValue(*strength);
        }
        listVaes(settings.vae.value_or(QString()));
        m_vaeCombo->setCurrentIndex(std::max(0, m_vaeCombo->findData(settings.vae.value_or(QString()))));
    }

    void MainWindow::updateImageControls()
    {
        const bool imageToImage = !m_initImageEdit->text().trimmed().isEmpty();
        // A1111's hires fix is text to image only.
        m_hiresCheck->setEnabled(!imageToImage);
        const bool hires = m_hiresCheck->isChecked() && !imageToImage;
        for (QWidget* widget :
             std::initializer_list<QWidget*>{m_hiresScaleSpin, m_hiresUpscalerCombo, m_hiresStepsSpin}) {
            widget->setEnabled(hires);
        }
        m_strengthSpin->setEnabled(imageToImage || hires);
        const int kind = imageToImage ? 1 : hires ? 2 : 0;
        if (kind != 0 && kind != m_strengthKind) {
            m_strengthSpin->setValue(imageToImage ? RenderDefaults::ImageToImageStrength
                                                  : RenderDefaults::HiresStrength);
        }
        m_strengthKind = kind;
    }

    void MainWindow::listVaes(const QString& keep)
    {
        const QString current = keep.isEmpty() ? m_vaeCombo->currentData().toString() : keep;
        while (m_vaeCombo->count() > 1) {
            m_vaeCombo->removeItem(1);
        }
        // By file name, as A1111 lists them and as infotexts name them; the workers find them by it.
        QStringList names;
        for (const QString& folder : m_settings.modelLocations().vaeFolders(m_settings.vaeFolders)) {
            QDirIterator it(folder, {u"*.safetensors"_s}, QDir::Files, QDirIterator::Subdirectories);
            while (it.hasNext()) {
                names.append(QFileInfo(it.next()).fileName());
            }
        }
        names.sort(Qt::CaseInsensitive);
        names.removeDuplicates();
        for (const QString& name : std::as_const(names)) {
            m_vaeCombo->addItem(name, name);
        }
        if (!current.isEmpty() && m_vaeCombo->findData(current) < 0) {
            m_vaeCombo->addItem(QFileInfo(current).fileName(), current);
            m_vaeCombo->setItemData(m_vaeCombo->count() - 1, current, Qt::ToolTipRole);
        }
        m_vaeCombo->setCurrentIndex(std::max(0, m_vaeCombo->findData(current)));
    }

    void MainWindow::chooseInitImage()
    {
        chooseFileFor(m_initImageEdit, tr("Choose an init image"), tr("Images (*.png *.jpg *.jpeg *.webp *.bmp)"));
    }

    void MainWindow::chooseFileFor(QLineEdit* edit, const QString& title, const QString& filter)
    {
        const QString file = QFileDialog::getOpenFileName(this, title, edit->text(), filter);
        if (!file.isEmpty()) {
            edit->setText(file);
        }
    }

    void MainWindow::chooseVae()
    {
        const QString file
            = QFileDialog::getOpenFileName(this, tr("Choose a VAE"), QString(), tr("VAE files (*.safetensors)"));
        if (!file.isEmpty()) {
            listVaes(file);
        }
    }

    bool MainWindow::editItem(qint64 itemId)
    {
        const std::optional<QueueItem> item = m_queue->item(itemId);
        if (!item || item->state != ItemState::Queued) {
            m_statusLabel->setText(tr("Only a waiting item can be edited."));
            return false;
        }
        m_editing = itemId;
        fillEditor(item->settings);
        m_editingLabel->setText(tr("Editing: %1").arg(excerpt(item->settings.prompt)));
        m_promptEdit->setFocus();
        updateActions();
        return true;
    }

    bool MainWindow::saveEdit()
    {
        if (!m_editing) {
            return false;
        }
        const QList<RenderSettings> items = itemsFromEditor();
        if (items.isEmpty()) {
            return false;
        }
        const qint64 id = *m_editing;
        const bool saved = m_queue->update(id, items.constFirst());
        if (!saved) {
            // The editor keeps the text: the artist can add it as a new item.
            m_statusLabel->setText(tr("The item started before the changes were saved; it renders as it was. "
                                      "Your changes are still in the editor."));
        } else {
            m_statusLabel->setText(tr("Changes saved"));
        }
        m_editing.reset();
        updateActions();
        return saved;
    }

    void MainWindow::cancelEdit()
    {
        m_editing.reset();
        updateActions();
    }

    QList<qint64> MainWindow::selectedItems() const
    {
        QList<int> rows;
        for (const QModelIndex& index : m_queueView->selectionModel()->selectedRows()) {
            rows.append(index.row());
        }
        std::sort(rows.begin(), rows.end());
        QList<qint64> ids;
        for (const int row : rows) {
            ids.append(m_queue->itemAt(row).id);
        }
        return ids;
    }

    void MainWindow::removeSelected()
    {
        m_queue->remove(selectedItems());
    }

    void MainWindow::moveSelectedToTop()
    {
        m_queue->moveToTop(selectedItems());
    }

    void MainWindow::moveSelectedToBottom()
    {
        m_queue->moveToBottom(selectedItems());
    }

    void MainWindow::duplicateSelected()
    {
        m_queue->duplicate(selectedItems());
    }

    void MainWindow::retrySelected()
    {
        m_queue->retry(selectedItems());
    }

    void MainWindow::cancelSelected()
    {
        QList<qint64> waiting;
        for (const qint64 id : selectedItems()) {
            const std::optional<QueueItem> item = m_queue->item(id);
            if (!item) {
                continue;
            }
            if (item->state == ItemState::Queued) {
                waiting.append(id);
            } else if (item->state == ItemState::Running && m_coordinator) {
                m_coordinator->cancelItem(id);
            }
        }
        m_queue->cancel(waiting, tr("canceled"));
    }

    void MainWindow::clearFinished()
    {
        m_queue->removeFinished();
    }

    qsizetype MainWindow::importFiles(const QStringList& paths)
    {
        qsizetype queued = 0;
        QStringList problems;
        const RenderSettings defaults = editorDefaults();
        for (const QString& path : paths) {
            const ImportResult result = importPromptFile(path);
            QList<RenderSettings> items;
            for (const RenderSettings& job : result.jobs) {
                // What the file leaves unset is what the editor says now, as for anything added next.
                RenderSettings item = job.withDefaults(defaults);
                item.seed = job.seed;
                items.append(item);
            }
            queued += m_queue->add(items).size();
            for (const ImportIssue& issue : result.issues) {
                problems.append(issue.toString());
            }
        }
        m_statusLabel->setText(tr("Imported %n prompt(s)", nullptr, static_cast<int>(queued)));
        if (!problems.isEmpty()) {
            // Non-modal, so a long list never blocks the queue, and the window keeps taking drops.
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Import problems"),
                                        tr("%n line(s) could not be imported; the rest were queued.", nullptr,
                                           static_cast<int>(problems.size())),
                                        QMessageBox::Close, this);
            box->setObjectName(u"importProblems"_s);
            box->setDetailedText(problems.join(u'\n'));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        return queued;
    }

    void MainWindow::chooseFilesToImport()
    {
        const QStringList paths = QFileDialog::getOpenFileNames(
            this, tr("Import prompts"), QString(), tr("Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)"));
        if (!paths.isEmpty()) {
            importFiles(paths);
        }
    }

    bool MainWindow::applyParameters(const QString& text, bool queue, const QString& source)
    {
        const InfotextReadResult read = readInfotext(text);
        if (!read.error.isEmpty()) {
            m_statusLabel->setText(tr("%1 holds no generation parameters: %2").arg(source, read.error));
            return false;
        }
        RenderSettings settings = read.infotext.settings;
        // An infotext names every setting its image had: no "Hires upscale" is no hires fix, no "VAE" the model's.
        settings.hiresScale = settings.hiresScale.value_or(RenderLimits::MinHiresScale);
        settings.vae = settings.vae.value_or(QString());
        if (queue) {
            const std::optional<quint64> seed = settings.seed;
            settings = settings.withDefaults(editorDefaults());
            settings.seed = seed;
            m_queue->add({settings});
        } else {
            fillEditor(settings);
        }
        // What Atelier cannot use yet is named, so nobody wonders why the image differs.
        const QString ignored
            = read.ignored.isEmpty() ? QString() : tr(" (not used: %1)").arg(read.ignored.join(u", "_s));
        m_statusLabel->setText(
            (queue ? tr("Queued the parameters of %1") : tr("The editor has the parameters of %1")).arg(source)
            + ignored);
        return true;
    }

    bool MainWindow::applyParametersOf(const QString& pngPath, bool queue)
    {
        const PngText png = readPngText(pngPath);
        const QString name = QFileInfo(pngPath).fileName();
        if (!png.ok()) {
            m_statusLabel->setText(png.error);
            return false;
        }
        if (!png.text.contains(u"parameters"_s)) {
            m_statusLabel->setText(tr("%1 holds no generation parameters").arg(name));
            return false;
        }
        return applyParameters(png.text.value(u"parameters"_s), queue, name);
    }

    void MainWindow::dragEnterEvent(QDragEnterEvent* event)
    {
        const QList<QUrl> urls = event->mimeData()->urls();
        const bool anyLocalFile
            = std::any_of(urls.begin(), urls.end(), [](const QUrl& url) { return url.isLocalFile(); });
        if (anyLocalFile || event->mimeData()->hasText()) {
            event->acceptProposedAction();
        }
    }

    void MainWindow::dropEvent(QDropEvent* event)
    {
        // An image (or infotext text) fills the editor; with Shift held it goes to the queue. Prompt files are
        // imported.
        const bool queue = event->modifiers().testFlag(Qt::ShiftModifier);
        QStringList paths;
        for (const QUrl& url : event->mimeData()->urls()) {
            if (!url.isLocalFile()) {
                continue;
            }
            if (url.toLocalFile().endsWith(u".png"_s, Qt::CaseInsensitive)) {
                applyParametersOf(url.toLocalFile(), queue);
            } else {
                paths.append(url.toLocalFile());
            }
        }
        if (!paths.isEmpty()) {
            importFiles(paths);
        }
        if (event->mimeData()->urls().isEmpty() && event->mimeData()->hasText()) {
            applyParameters(event->mimeData()->text(), queue, tr("the dropped text"));
        }
        event->acceptProposedAction();
    }

    void MainWindow::showAbout()
    {
        QMessageBox::about(
            this, tr("About Atelier"),
            tr("<h3>Atelier %1</h3><p>Queue Stable Diffusion prompts and render them on every GPU "
               "at once.</p><pre>%2</pre>")
                .arg(BuildInfo::atelierVersion(), BuildInfo::versionReport(u"Atelier"_s).toHtmlEscaped()));
    }

    void MainWindow::changeEvent(QEvent* event)
    {
        if (event->type() == QEvent::LanguageChange) {
            retranslate();
        }
        QMainWindow::changeEvent(event);
    }

    void MainWindow::closeEvent(QCloseEvent* event)
    {
        saveSettings();
        if (isRendering()) {
            // Into the queue's store before the application goes; the workers' images are written atomically, so
            // none is left half-way.
            takeBackUnfinished();
        }
        QMainWindow::closeEvent(event);
    }

    bool MainWindow::isRendering() const
    {
        return m_coordinator != nullptr;
    }

    void MainWindow::setPaused(bool paused)
    {
        m_paused = paused;
        m_pauseAction->setChecked(paused);
        if (m_coordinator) {
            m_coordinator->setPaused(paused);
        }
        retranslate();
    }

    bool MainWindow::startRendering()
    {
        if (isRendering()) {
            return true;
        }
        const QStringList devices = m_board->devicesInUse();
        if (devices.isEmpty()) {
            m_statusLabel->setText(tr("Check at least one device to render on."));
            return false;
        }
        const QString output = m_outputEdit->text().trimmed().isEmpty() ? AppSettings::defaultOutputDirectory()
                                                                        : m_outputEdit->text().trimmed();
        if (!QDir().mkpath(output)) {
            m_statusLabel->setText(tr("Cannot create the output folder %1").arg(QDir::toNativeSeparators(output)));
            return false;
        }
        saveSettings();
        updateWatchedFolders();

        CoordinatorOptions options;
        options.workerProgram = m_workerProgram;
        for (const QString& id : devices) {
            options.devices.append(DeviceBoardModel::workerDevice(id));
        }
        if (const auto cpus = options.devices.count(u"cpu"_s); cpus > 1) {
            // Without a share each, every CPU worker would start a thread per core and they would fight over them.
            options.threadsPerWorker = std::max(1, QThread::idealThreadCount() / int(cpus));
        }
        options.modelPath = m_modelEdit->text().trimmed();
        options.loraFolders = m_settings.modelLocations().loraFolders(m_settings.loraFolders);
        options.embeddingFolders = m_settings.modelLocations().embeddingFolders(m_settings.embeddingFolders);
        options.vaeFolders = m_settings.modelLocations().vaeFolders(m_settings.vaeFolders);
        options.outputDirectory = QDir(output).absolutePath();
        options.keepRunningWhenIdle = true;
        options.defaults = editorDefaults();
        options.maxBatch = m_settings.maxBatch;
        options.namingPattern = m_settings.namingPattern;
        // Each device at its own precision (fp16 on GPUs, fp32 on the CPU), as the batch mode does.
        options.precision = Precision::Auto;

        m_runEvents.clear();
        m_lastStates.clear();
        m_saidEmpty = false;
        m_coordinator = std::make_unique<Coordinator>(options);
        Coordinator* coordinator = m_coordinator.get();
        coordinator->setQueue(m_queue);
        coordinator->setPaused(m_paused);
        QHash<QString, int> ranks;
        for (int rank = 0; rank < devices.size(); ++rank) {
            ranks.insert(devices.at(rank), rank);
        }
        m_board->runStarted(ranks);
        connect(coordinator, &Coordinator::jobStarted, this, [this, coordinator](qint64 id, int rank) {
            const JobRecord& job = coordinator->jobs().at(id);
            const int steps = job.settings.withDefaults(editorDefaults()).steps.value_or(RenderDefaults::Steps);
            m_board->jobStarted(rank, job.itemId, job.settings.prompt, steps);
            m_queue->setLive(job.itemId, LiveProgress{coordinator->devices().value(rank), 0, steps, 0, {}, 0, 0, {}});
        });
        connect(coordinator, &Coordinator::jobProgress, this,
                [this, coordinator](qint64 id, int rank, int step, int total, double itps) {
                    m_board->jobProgress(rank, step, total, itps);
                    const qint64 itemId = coordinator->jobs().at(id).itemId;
                    LiveProgress now = m_queue->live(itemId) ? *m_queue->live(itemId) : LiveProgress{};
                    now.device = coordinator->devices().value(rank);
                    now.step = step;
                    now.total = total;
                    now.iterationsPerSecond = itps;
                    now.note.clear();
                    m_queue->setLive(itemId, now);
                });
        connect(coordinator, &Coordinator::jobPreview, this,
                [this, coordinator](qint64 id, int width, int height, const QByteArray& rgb) {
                    const qint64 itemId = coordinator->jobs().at(id).itemId;
                    if (const LiveProgress* now = m_queue->live(itemId)) {
                        LiveProgress withPreview = *now;
                        withPreview.previewWidth = width;
                        withPreview.previewHeight = height;
                        withPreview.previewRgb = rgb;
                        m_queue->setLive(itemId, withPreview);
                    }
                });
        connect(coordinator, &Coordinator::jobFinished, this, [this, coordinator](qint64 id, const QString& path) {
            m_gallery->imageFinished(path);
            m_board->jobEnded(coordinator->jobs().at(id).rank, true);
            refreshWorkerStates(-1, {});
            checkQueueRanEmpty();
        });
        connect(coordinator, &Coordinator::jobFailed, this,
                [this, coordinator](qint64 id, const QString& reason, bool willRetry) {
                    const JobRecord& job = coordinator->jobs().at(id);
                    m_board->jobEnded(job.rank, false);
                    if (willRetry) {
                        m_queue->setLive(job.itemId, LiveProgress{{}, 0, 0, 0, reason, 0, 0, {}});
                    }
                    refreshWorkerStates(-1, {});
                });
        // A job stopped with the run is not a failure: it goes back to the queue.
        connect(coordinator, &Coordinator::jobCanceled, this, [this, coordinator](qint64 id) {
            m_board->jobEnded(coordinator->jobs().at(id).rank, false);
            refreshWorkerStates(-1, {});
        });
        connect(coordinator, &Coordinator::workerEvent, this, [this, coordinator](int rank, const QString& message) {
            if (rank >= 0) {
                m_runEvents.append(u"%1: %2"_s.arg(coordinator->devices().value(rank), message));
                if (m_runEvents.size() > 200) {
                    m_runEvents.removeFirst();
                }
            } else {
                m_statusLabel->setText(message);
            }
            refreshWorkerStates(rank, message);
        });
        connect(coordinator, &Coordinator::workerMemory, m_board, &DeviceBoardModel::memory);
        connect(coordinator, &Coordinator::finished, this, &MainWindow::renderingFinished, Qt::QueuedConnection);
        if (const QString error = coordinator->start(); !error.isEmpty()) {
            m_coordinator.reset();
            m_board->runFinished();
            m_statusLabel->setText(tr("Cannot start rendering: %1").arg(error));
            return false;
        }
        refreshWorkerStates(-1, {});
        retranslate();
        return true;
    }

    void MainWindow::notify(const QString& title, const QString& message)
    {
        if (!m_tray && QSystemTrayIcon::isSystemTrayAvailable()) {
            m_tray = new QSystemTrayIcon(windowIcon(), this);
            m_tray->show();
        }
        if (m_tray) {
            m_tray->showMessage(title, message, QSystemTrayIcon::Information);
        }
        QApplication::alert(this);
        emit notified(title, message);
    }

    void MainWindow::checkQueueRanEmpty()
    {
        const bool empty = m_queue->waitingCount() == 0 && m_queue->countIn(ItemState::Running) == 0;
        if (!empty) {
            m_saidEmpty = false;
        } else if (isRendering() && !m_stopRequested && !std::exchange(m_saidEmpty, true)) {
            notify(tr("Atelier: queue done"),
                   tr("Every queued image is made (%n this run).", nullptr, m_board->imagesMade()));
        }
    }

    void MainWindow::startRenderingWhenReady()
    {
        if (m_deviceProbe) {
            m_renderWhenListed = true;
        } else {
            startRendering();
        }
    }

    void MainWindow::refreshWorkerStates(int rank, const QString& note)
    {
        if (!m_coordinator) {
            return;
        }
        for (int r = 0; r < m_coordinator->devices().size(); ++r) {
            const WorkerState state = m_coordinator->workerState(r);
            m_board->workerState(r, state, r == rank ? note : QString());
            const std::optional<WorkerState> before
                = m_lastStates.contains(r) ? std::optional<WorkerState>(m_lastStates.value(r)) : std::nullopt;
            m_lastStates.insert(r, state);
            if (state == WorkerState::Disabled && before != WorkerState::Disabled) {
                notify(tr("Atelier: a device stopped"),
                       tr("%1 was disabled: %2")
                           .arg(m_coordinator->devices().at(r),
                                m_board->index(m_board->rowOfRank(r), 0).data(DeviceBoardModel::ErrorRole).toString()));
            }
        }
        scheduleSummary();
    }

    void MainWindow::deviceUseChanged(const QString& id, bool use)
    {
        saveSettings();
        if (!m_coordinator) {
            updateActions();
            return;
        }
        // Within the run: that device's worker starts or stops; the others go on undisturbed.
        const int rank = m_board->rankOfDevice(id);
        if (rank >= 0) {
            if (!use && m_board->devicesInUse().isEmpty()) {
                // The last device goes: that ends the run, as Stop would.
                m_stopRequested = true;
            }
            m_coordinator->setDeviceEnabled(rank, use);
        } else if (use) {
            QString error;
            const int added = m_coordinator->addDevice(DeviceBoardModel::workerDevice(id), &error);
            if (added < 0) {
                m_statusLabel->setText(tr("Cannot use %1: %2").arg(id, error));
                return;
            }
            m_board->setRank(id, added);
        }
        refreshWorkerStates(-1, {});
    }

    void MainWindow::stopRendering()
    {
        if (m_coordinator) {
            m_stopRequested = true;
            m_coordinator->stop();
            updateActions();
            m_statusLabel->setText(tr("Stopping…"));
        }
    }

    void MainWindow::takeBackUnfinished()
    {
        // Going, the coordinator gives what was running (or waiting for a retry) back to the front of the queue's
        // store, with its seed; the table shows it.
        m_coordinator.reset();
        m_queue->refresh();
        m_board->runFinished();
    }

    void MainWindow::renderingFinished()
    {
        if (!m_coordinator) {
            return;
        }
        takeBackUnfinished();
        if (!m_stopRequested) {
            // Nobody pressed Stop: every device failed (a model that does not load, a missing worker). Say so
            // where it cannot be missed, with what the workers reported. Non-modal, like the import problems.
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Rendering stopped"),
                                        tr("No device could go on rendering; the prompts that were not finished "
                                           "are back in the queue. Check the model and the devices, then press "
                                           "Render again."),
                                        QMessageBox::Close, this);
            box->setObjectName(u"renderProblems"_s);
            box->setDetailedText(m_runEvents.join(u'\n'));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        m_stopRequested = false;
        m_statusLabel->clear();
        retranslate();
    }

    void MainWindow::scheduleSummary()
    {
        // Not restarted while it runs: progress arrives more often than the interval, and would starve it.
        if (!m_summaryTimer->isActive()) {
            m_summaryTimer->start();
        }
    }

    void MainWindow::updateSummary()
    {
        // The ETA: the steps still to run (what runs now, and every waiting item's steps) over the speed of all
        // devices together, each at its measured speed, so a device twice as fast counts twice.
        const qsizetype waiting = m_queue->waitingCount();
        const qsizetype running = m_queue->countIn(ItemState::Running);
        const int made = m_board->imagesMade();
        QStringList parts;
        if (isRendering()) {
            parts.append(tr("%1 of %2 images").arg(made).arg(made + running + waiting));
            const double speed = m_board->totalIterationsPerSecond();
            if (speed > 0) {
                parts.append(tr("%1 it/s").arg(speed, 0, 'f', 2));
                qint64 steps = m_board->stepsLeftRunning();
                const RenderSettings defaults = editorDefaults();
                for (int row = 0; row < m_queue->rowCount(); ++row) {
                    const QueueItem& item = m_queue->itemAt(row);
                    if (item.state == ItemState::Queued) {
                        steps += item.settings.withDefaults(defaults).steps.value_or(RenderDefaults::Steps);
                    }
                }
                if (steps > 0 && !m_paused) {
                    parts.append(tr("%1 left").arg(DeviceBoardModel::durationText(double(steps) / speed)));
                }
            }
        } else {
            parts.append(tr("%n item(s) waiting", nullptr, int(waiting)));
        }
        if (m_paused) {
            parts.append(tr("paused"));
        }
        m_summaryLabel->setText(parts.join(u" · "_s));
    }

    void MainWindow::listDevices()
    {
        const QStringList saved = QSettings().value(u"render/devices"_s).toStringList();
        m_board->addDevice(u"cpu"_s, {}, saved.isEmpty() || saved.contains(u"cpu"_s));
        // More CPU workers, for a machine without a GPU: each renders its own images on its share of the cores.
        for (int worker = 2; worker <= m_settings.cpuWorkers; ++worker) {
            const QString id = u"cpu#%1"_s.arg(worker);
            m_board->addDevice(id, tr("CPU, worker %1").arg(worker), saved.isEmpty() || saved.contains(id));
        }
        // Asking the worker keeps LibTorch and CUDA out of this process; it takes a moment, so it runs meanwhile.
        auto* list = new QProcess(this);
        m_deviceProbe = list;
        connect(list, &QProcess::errorOccurred, this, [this, list](QProcess::ProcessError error) {
            if (error == QProcess::FailedToStart) {
                m_deviceProbe = nullptr;
                list->deleteLater();
                if (std::exchange(m_renderWhenListed, false)) {
                    startRendering();
                }
            }
        });
        connect(list, &QProcess::finished, this, [this, list, saved](int exitCode, QProcess::ExitStatus status) {
            m_deviceProbe = nullptr;
            list->deleteLater();
            const bool listed = status == QProcess::NormalExit && exitCode == 0;
            bool anyCuda = false;
            for (const QString& line :
                 listed ? QString::fromUtf8(list->readAllStandardOutput()).split(u'\n') : QStringList()) {
                const QString id = line.section(u' ', 0, 0);
                const QString description = line.mid(id.size()).simplified();
                if (id == u"cpu"_s || id.startsWith(u"cuda:"_s)) {
                    // First start: every GPU, and the CPU only when there is none. Later: what was chosen last.
                    m_board->addDevice(id, description, saved.isEmpty() ? id != u"cpu"_s : saved.contains(id));
                    anyCuda = anyCuda || id.startsWith(u"cuda:"_s);
                }
            }
            if (saved.isEmpty() && anyCuda && !isRendering()) {
                m_board->setUse(u"cpu"_s, false);
            }
            if (std::exchange(m_renderWhenListed, false)) {
                startRendering();
            }
        });
        list->start(m_workerProgram, {u"--list-devices"_s});
    }

    void MainWindow::loadSettings()
    {
        QStringList problems;
        m_settings = AppSettings::load(&problems);
        showDefaults(m_settings);
        m_negativeEdit->setPlainText(m_settings.negativePrompt);
        if (!problems.isEmpty()) {
            m_statusLabel->setText(tr("Some settings were not usable: %1").arg(problems.join(u"; "_s)));
        }
    }

    void MainWindow::showDefaults(const AppSettings& settings)
    {
        m_stepsSpin->setValue(settings.steps);
        m_cfgSpin->setValue(settings.cfgScale);
        m_widthSpin->setValue(settings.width);
        m_heightSpin->setValue(settings.height);
        m_samplerCombo->setCurrentIndex(std::max(0, m_samplerCombo->findData(settings.sampler)));
        m_clipSkipSpin->setValue(settings.clipSkip);
        listVaes();
        m_imagesSpin->setValue(settings.imagesPerPrompt);
        m_modelEdit->setText(settings.modelPath);
        m_outputEdit->setText(settings.outputDirectory);
    }

    void MainWindow::saveSettings()
    {
        // The editor's values are the defaults of what is added next: they are what the next start shows.
        m_settings.steps = m_stepsSpin->value();
        m_settings.cfgScale = m_cfgSpin->value();
        m_settings.width = m_widthSpin->value();
        m_settings.height = m_heightSpin->value();
        m_settings.sampler = m_samplerCombo->currentData().toString();
        m_settings.clipSkip = m_clipSkipSpin->value();
        m_settings.imagesPerPrompt = m_imagesSpin->value();
        m_settings.modelPath = m_modelEdit->text().trimmed();
        if (const QString output = m_outputEdit->text().trimmed(); !output.isEmpty()) {
            m_settings.outputDirectory = output;
        }
        m_settings.save();
        QSettings().setValue(u"render/devices"_s, m_board->devicesInUse());
    }

    void MainWindow::showSettings()
    {
        saveSettings();
        auto* dialog = new SettingsDialog(m_settings, this);
        dialog->setObjectName(u"settingsDialog"_s);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &SettingsDialog::applied, this, &MainWindow::applySettings);
        dialog->open();
    }

    void MainWindow::applySettings(const AppSettings& settings)
    {
        // Folders added elsewhere meanwhile (an `atelier --batch` run) are kept.
        AppSettings applied = settings;
        for (const QString& folder : AppSettings::load().libraryFolders) {
            if (!applied.libraryFolders.contains(folder)) {
                applied.libraryFolders.append(folder);
            }
        }
        m_settings = applied;
        m_settings.save();
        showDefaults(m_settings);
        applyTheme(m_settings.theme);
        updateWatchedFolders();
        m_statusLabel->setText(tr("Settings saved."));
    }

    void MainWindow::addLibraryFolder(const QString& folder)
    {
        if (AppSettings::addLibraryFolder(folder)) {
            m_settings.libraryFolders = AppSettings::load().libraryFolders;
        }
        updateWatchedFolders();
    }

    void MainWindow::updateWatchedFolders()
    {
        const QString output = m_outputEdit->text().trimmed();
        m_gallery->setWatchedFolders(QStringList{output.isEmpty() ? m_settings.outputDirectory : output}
                                     + m_settings.libraryFolders);
    }

    void MainWindow::chooseModel()
    {
        chooseFileFor(m_modelEdit, tr("Choose a model"), tr("Stable Diffusion 1.x checkpoints (*.safetensors)"));
    }

    void MainWindow::chooseOutputFolder()
    {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Output folder"), m_outputEdit->text());
        if (!folder.isEmpty()) {
            m_outputEdit->setText(folder);
            updateWatchedFolders();
        }
    }

    void MainWindow::retranslate()
    {
        setWindowTitle(tr("Atelier"));
        m_promptLabel->setText(tr("&Prompt"));
        m_negativeLabel->setText(tr("&Negative prompt"));
        m_promptEdit->setPlaceholderText(tr("Describe the image, e.g. a lighthouse at dusk, oil painting"));
        m_negativeEdit->setPlaceholderText(tr("What to avoid, e.g. blurry, low quality"));
        m_settingsBox->setTitle(tr("Render settings"));
        m_settingsBox->setToolTip(tr("The settings of what you add next; the queue keeps each item's own"));
        m_seedLabel->setText(tr("S&eed"));
        m_randomSeedCheck->setText(tr("R&andom"));
        m_seedEdit->setPlaceholderText(tr("a whole number"));
        m_imagesLabel->setText(tr("&Images"));
        m_imagesSpin->setToolTip(tr("Images per prompt, with seeds s, s + 1, …"));
        m_stepsLabel->setText(tr("&Steps"));
        m_cfgLabel->setText(tr("&CFG scale"));
        m_sizeLabel->setText(tr("Si&ze"));
        m_samplerLabel->setText(tr("Sa&mpler"));
        m_clipSkipLabel->setText(tr("Clip s&kip"));
        m_clipSkipSpin->setToolTip(tr("AUTOMATIC1111's Clip skip: 1 uses CLIP's last layer, 2 the one before (what "
                                      "many anime-style models expect)"));
        m_initImageLabel->setText(tr("I&nit image"));
        m_initImageEdit->setPlaceholderText(tr("None: text to image"));
        m_initImageEdit->setToolTip(tr("Image to image: start from this picture, resized to the size above"));
        m_initImageButton->setToolTip(tr("Choose an init image"));
        m_hiresCheck->setText(tr("&Hires fix"));
        m_hiresCheck->setToolTip(tr("Render at the size above, then again larger (text to image only)"));
        m_hiresScaleSpin->setToolTip(tr("How many times larger the second pass renders"));
        m_hiresUpscalerCombo->setToolTip(tr("Latent enlarges the latents; Lanczos the decoded image"));
        m_hiresStepsSpin->setSpecialValueText(tr("same steps"));
        m_hiresStepsSpin->setSuffix(tr(" steps"));
        m_hiresStepsSpin->setToolTip(tr("Steps of the second pass"));
        m_strengthLabel->setText(tr("&Denoising"));
        m_strengthSpin->setToolTip(tr("Denoising strength of image to image or of the hires fix: how much of the "
                                      "picture is redrawn"));
        m_vaeLabel->setText(tr("&VAE"));
        m_vaeCombo->setItemText(0, tr("The model's own"));
        m_vaeCombo->setToolTip(tr("A VAE from the VAE folders (AUTOMATIC1111's models/VAE, ComfyUI's models/vae)"));
        m_vaeButton->setToolTip(tr("Choose a VAE file"));
        for (int i = 0; i < m_samplerCombo->count(); ++i) {
            const QString id = m_samplerCombo->itemData(i).toString();
            m_samplerCombo->setItemText(i, id.isEmpty() ? tr("Model default") : a1111SamplerName(id));
        }
        m_runBox->setTitle(tr("Run"));
        m_modelLabel->setText(tr("M&odel"));
        m_outputLabel->setText(tr("O&utput"));
        m_modelEdit->setPlaceholderText(tr("Built-in test model (abstract noise)"));
        m_modelEdit->setToolTip(tr("A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder"));
        m_modelButton->setToolTip(tr("Choose a model"));
        m_outputButton->setToolTip(tr("Choose the output folder"));

        m_addAction->setText(tr("&Add to queue"));
        m_addFirstAction->setText(tr("Add &first"));
        m_addButton->setText(tr("&Add to queue"));
        m_addButton->setToolTip(withShortcut(tr("Queue this prompt"), m_addAction));
        m_addFirstButton->setText(tr("Add &first"));
        m_addFirstButton->setToolTip(
            withShortcut(tr("Queue this prompt before everything that waits"), m_addFirstAction));
        m_saveEditButton->setText(tr("&Save changes"));
        m_saveEditButton->setToolTip(withShortcut(tr("Write the editor into the queued item"), m_addAction));
        m_cancelEditButton->setText(tr("Cancel &editing"));
        if (m_editing) {
            if (const std::optional<QueueItem> item = m_queue->item(*m_editing)) {
                m_editingLabel->setText(tr("Editing: %1").arg(excerpt(item->settings.prompt)));
            }
        }

        m_queueLabel->setText(tr("Queue"));
        m_devicesLabel->setText(tr("&Devices"));
        m_galleryMenu->setTitle(tr("&Gallery"));
        m_renderAction->setText(isRendering() ? tr("S&top") : tr("&Render"));
        m_renderAction->setToolTip(withShortcut(isRendering() ? tr("Stop rendering; running items wait again")
                                                              : tr("Render the queue on the checked devices"),
                                                m_renderAction));
        m_renderButton->setText(m_renderAction->text());
        m_renderButton->setToolTip(m_renderAction->toolTip());
        m_pauseAction->setText(m_paused ? tr("Res&ume") : tr("&Pause"));
        m_pauseAction->setToolTip(withShortcut(m_paused ? tr("Start waiting items again")
                                                        : tr("Let running items finish and start nothing new"),
                                               m_pauseAction));
        const QList<std::pair<QAction*, std::pair<QString, QString>>> texts{
            {m_editAction, {tr("&Edit"), tr("Load the item into the editor")}},
            {m_duplicateAction, {tr("D&uplicate"), tr("Queue a copy right after it")}},
            {m_moveTopAction, {tr("Move to &top"), tr("Render it next")}},
            {m_moveBottomAction, {tr("Move to &bottom"), tr("Render it last")}},
            {m_retryAction, {tr("Re&try"), tr("Queue a failed or canceled item again")}},
            {m_cancelAction, {tr("&Cancel"), tr("Do not render it; a running one stops")}},
            {m_removeAction, {tr("Re&move"), tr("Remove it from the queue")}},
            {m_clearFinishedAction, {tr("C&lear finished"), tr("Remove every finished item from the queue")}},
        };
        for (const auto& [action, text] : texts) {
            action->setText(text.first);
            action->setToolTip(withShortcut(text.second, action));
        }
        m_fileMenu->setTitle(tr("&File"));
        m_queueMenu->setTitle(tr("&Queue"));
        m_helpMenu->setTitle(tr("&Help"));
        m_quitAction->setText(tr("&Quit"));
        m_importAction->setText(tr("&Import prompts…"));
        m_pasteParametersAction->setText(tr("&Paste parameters"));
        m_pasteParametersAction->setToolTip(
            withShortcut(tr("Fill the editor from generation parameters (A1111 infotext) on the clipboard"),
                         m_pasteParametersAction));
        m_aboutAction->setText(tr("&About Atelier"));
        m_settingsAction->setText(tr("&Settings…"));
        m_settingsAction->setToolTip(
            withShortcut(tr("Models, output folder and names, defaults, workers, theme"), m_settingsAction));
        m_addLibraryFolderAction->setText(tr("&Add a folder…"));
        m_addLibraryFolderAction->setToolTip(tr("Show the images of another folder in the gallery too"));
        m_queue->headerDataChanged(Qt::Horizontal, 0, QueueModel::ColumnCount - 1);
        m_board->headerDataChanged(Qt::Horizontal, 0, DeviceBoardModel::ColumnCount - 1);
        if (m_stopRequested) {
            m_statusLabel->setText(tr("Stopping…"));
        }
        updateSummary();
        updateActions();
    }

    void MainWindow::updateActions()
    {
        const bool hasPrompt = !m_promptEdit->toPlainText().trimmed().isEmpty();
        const bool editing = m_editing.has_value();
        m_addButton->setVisible(!editing);
        m_addFirstButton->setVisible(!editing);
        m_saveEditButton->setVisible(editing);
        m_cancelEditButton->setVisible(editing);
        m_editingLabel->setVisible(editing);
        m_imagesSpin->setEnabled(!editing);
        m_addButton->setEnabled(hasPrompt);
        m_addFirstButton->setEnabled(hasPrompt);
        m_saveEditButton->setEnabled(hasPrompt);
        m_addAction->setEnabled(hasPrompt);
        m_addFirstAction->setEnabled(hasPrompt && !editing);

        bool anyWaiting = false, anyRunning = false, anyRetryable = false, anyRemovable = false;
        const QList<qint64> selected = selectedItems();
        for (const qint64 id : selected) {
            const std::optional<QueueItem> item = m_queue->item(id);
            if (!item) {
                continue;
            }
            anyWaiting = anyWaiting || item->state == ItemState::Queued;
            anyRunning = anyRunning || item->state == ItemState::Running;
            anyRetryable = anyRetryable || item->state == ItemState::Failed || item->state == ItemState::Canceled;
            anyRemovable = anyRemovable || item->state != ItemState::Running;
        }
        const bool oneWaiting = selected.size() == 1 && anyWaiting;
        m_editAction->setEnabled(oneWaiting);
        m_duplicateAction->setEnabled(!selected.isEmpty());
        m_moveTopAction->setEnabled(anyWaiting);
        m_moveBottomAction->setEnabled(anyWaiting);
        m_retryAction->setEnabled(anyRetryable);
        m_cancelAction->setEnabled(anyWaiting || (anyRunning && isRendering()));
        m_removeAction->setEnabled(anyRemovable);
        m_clearFinishedAction->setEnabled(m_queue->rowCount()
                                          > m_queue->waitingCount() + m_queue->countIn(ItemState::Running));
        m_renderAction->setEnabled(isRendering() ? !m_stopRequested : m_queue->waitingCount() > 0);
        m_renderButton->setEnabled(m_renderAction->isEnabled());
    }
} // namespace Atelier
