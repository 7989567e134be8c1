// SPDX-License-Identifier: GPL-3.0-or-later
#include "MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "BuildInfo.h"
#include "GalleryModel.h"
#include "import/PromptImport.h"
#include "orchestration/Coordinator.h"
#include "queue/PromptQueue.h"
#include "render/RenderSettings.h"
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

        QString defaultOutputFolder()
        {
            QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
            if (pictures.isEmpty()) {
                pictures = QDir::homePath();
            }
            return QDir(pictures).filePath(u"Atelier"_s);
        }
    } // namespace

    MainWindow::MainWindow(PromptQueue* queue, const QString& workerProgram, QWidget* parent)
        : QMainWindow(parent)
        , m_queue(queue)
        , m_workerProgram(workerProgram.isEmpty() ? QCoreApplication::applicationDirPath() + u"/atelier-worker"_s
                                                  : workerProgram)
        , m_gallery(new GalleryModel(this))
        , m_promptEdit(new QPlainTextEdit(this))
        , m_negativeEdit(new QPlainTextEdit(this))
        , m_addButton(new QPushButton(this))
        , m_removeButton(new QPushButton(this))
        , m_renderButton(new QPushButton(this))
        , m_queueView(new QListView(this))
        , m_galleryView(new QListView(this))
        , m_promptLabel(new QLabel(this))
        , m_negativeLabel(new QLabel(this))
        , m_queueLabel(new QLabel(this))
        , m_galleryLabel(new QLabel(this))
        , m_statusLabel(new QLabel(this))
        , m_deviceStatus(new QLabel(this))
        , m_settingsBox(new QGroupBox(this))
        , m_stepsLabel(new QLabel(this))
        , m_cfgLabel(new QLabel(this))
        , m_sizeLabel(new QLabel(this))
        , m_samplerLabel(new QLabel(this))
        , m_devicesLabel(new QLabel(this))
        , m_modelLabel(new QLabel(this))
        , m_outputLabel(new QLabel(this))
        , m_stepsSpin(new QSpinBox(this))
        , m_cfgSpin(new QDoubleSpinBox(this))
        , m_widthSpin(new QSpinBox(this))
        , m_heightSpin(new QSpinBox(this))
        , m_samplerCombo(new QComboBox(this))
        , m_deviceList(new QListWidget(this))
        , m_modelEdit(new QLineEdit(this))
        , m_outputEdit(new QLineEdit(this))
        , m_modelButton(new QToolButton(this))
        , m_outputButton(new QToolButton(this))
        , m_importAction(new QAction(this))
        , m_aboutAction(new QAction(this))
        , m_quitAction(new QAction(this))
        , m_fileMenu(menuBar()->addMenu(QString()))
        , m_helpMenu(menuBar()->addMenu(QString()))
    {
        setObjectName(u"MainWindow"_s);
        setWindowIcon(QIcon(u":/icons/atelier.svg"_s));
        m_promptEdit->setObjectName(u"promptEdit"_s);
        m_negativeEdit->setObjectName(u"negativeEdit"_s);
        m_addButton->setObjectName(u"addButton"_s);
        m_removeButton->setObjectName(u"removeButton"_s);
        m_renderButton->setObjectName(u"renderButton"_s);
        m_queueView->setObjectName(u"queueView"_s);
        m_galleryView->setObjectName(u"galleryView"_s);
        m_statusLabel->setObjectName(u"statusLabel"_s);
        m_deviceStatus->setObjectName(u"deviceStatus"_s);
        m_stepsSpin->setObjectName(u"stepsSpin"_s);
        m_cfgSpin->setObjectName(u"cfgSpin"_s);
        m_widthSpin->setObjectName(u"widthSpin"_s);
        m_heightSpin->setObjectName(u"heightSpin"_s);
        m_samplerCombo->setObjectName(u"samplerCombo"_s);
        m_deviceList->setObjectName(u"deviceList"_s);
        m_modelEdit->setObjectName(u"modelEdit"_s);
        m_outputEdit->setObjectName(u"outputEdit"_s);

        m_promptEdit->setTabChangesFocus(true);
        m_negativeEdit->setTabChangesFocus(true);
        m_negativeEdit->setMaximumHeight(m_negativeEdit->fontMetrics().lineSpacing() * 4);
        m_promptLabel->setBuddy(m_promptEdit);
        m_negativeLabel->setBuddy(m_negativeEdit);
        m_queueView->setModel(m_queue);
        m_queueView->setSelectionMode(QAbstractItemView::ExtendedSelection);
        m_queueView->setUniformItemSizes(true);

        m_galleryView->setModel(m_gallery);
        m_galleryView->setViewMode(QListView::IconMode);
        m_galleryView->setResizeMode(QListView::Adjust);
        m_galleryView->setMovement(QListView::Static);
        m_galleryView->setUniformItemSizes(true);
        m_galleryView->setWordWrap(true);
        m_galleryView->setIconSize(QSize(m_gallery->thumbnailSize(), m_gallery->thumbnailSize()));
        m_galleryView->setGridSize(QSize(m_gallery->thumbnailSize() + 24, m_gallery->thumbnailSize() + 48));
        m_galleryView->setSpacing(4);
        m_galleryLabel->setBuddy(m_galleryView);

        // Render settings: the defaults for prompts that do not set their own (imported files may).
        m_stepsSpin->setRange(RenderLimits::MinSteps, RenderLimits::MaxSteps);
        m_cfgSpin->setRange(RenderLimits::MinCfgScale, RenderLimits::MaxCfgScale);
        m_cfgSpin->setSingleStep(0.5);
        m_cfgSpin->setDecimals(1);
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
        m_deviceList->setMaximumHeight(m_deviceList->fontMetrics().lineSpacing() * 5);
        auto* sizeRow = new QHBoxLayout;
        sizeRow->addWidget(m_widthSpin);
        sizeRow->addWidget(new QLabel(u"×"_s, this));
        sizeRow->addWidget(m_heightSpin);
        auto* modelRow = new QHBoxLayout;
        modelRow->addWidget(m_modelEdit, 1);
        modelRow->addWidget(m_modelButton);
        auto* outputRow = new QHBoxLayout;
        outputRow->addWidget(m_outputEdit, 1);
        outputRow->addWidget(m_outputButton);
        m_modelButton->setText(u"…"_s);
        m_outputButton->setText(u"…"_s);
        auto* form = new QFormLayout(m_settingsBox);
        form->addRow(m_stepsLabel, m_stepsSpin);
        form->addRow(m_cfgLabel, m_cfgSpin);
        form->addRow(m_sizeLabel, sizeRow);
        form->addRow(m_samplerLabel, m_samplerCombo);
        form->addRow(m_devicesLabel, m_deviceList);
        form->addRow(m_modelLabel, modelRow);
        form->addRow(m_outputLabel, outputRow);
        m_stepsLabel->setBuddy(m_stepsSpin);
        m_cfgLabel->setBuddy(m_cfgSpin);
        m_sizeLabel->setBuddy(m_widthSpin);
        m_samplerLabel->setBuddy(m_samplerCombo);
        m_devicesLabel->setBuddy(m_deviceList);
        m_modelLabel->setBuddy(m_modelEdit);
        m_outputLabel->setBuddy(m_outputEdit);

        auto* editorColumn = new QVBoxLayout;
        editorColumn->addWidget(m_promptLabel);
        editorColumn->addWidget(m_promptEdit, 3);
        editorColumn->addWidget(m_negativeLabel);
        editorColumn->addWidget(m_negativeEdit, 1);
        auto* buttons = new QHBoxLayout;
        buttons->addStretch();
        buttons->addWidget(m_addButton);
        editorColumn->addLayout(buttons);

        auto* queueColumn = new QVBoxLayout;
        queueColumn->addWidget(m_queueLabel);
        queueColumn->addWidget(m_queueView, 1);
        auto* queueButtons = new QHBoxLayout;
        queueButtons->addWidget(m_removeButton);
        queueButtons->addStretch();
        queueButtons->addWidget(m_renderButton);
        queueColumn->addLayout(queueButtons);

        auto* top = new QWidget(this);
        auto* columns = new QHBoxLayout(top);
        columns->addLayout(editorColumn, 3);
        columns->addWidget(m_settingsBox, 2);
        columns->addLayout(queueColumn, 2);
        auto* bottom = new QWidget(this);
        auto* galleryColumn = new QVBoxLayout(bottom);
        galleryColumn->addWidget(m_galleryLabel);
        galleryColumn->addWidget(m_galleryView, 1);
        auto* splitter = new QSplitter(Qt::Vertical, this);
        splitter->addWidget(top);
        splitter->addWidget(bottom);
        splitter->setStretchFactor(0, 2);
        splitter->setStretchFactor(1, 3);
        setCentralWidget(splitter);
        statusBar()->addWidget(m_statusLabel, 1);
        statusBar()->addPermanentWidget(m_deviceStatus);

        m_fileMenu->addAction(m_importAction);
        m_fileMenu->addSeparator();
        m_fileMenu->addAction(m_quitAction);
        m_importAction->setShortcut(QKeySequence::Open);
        setAcceptDrops(true);
        m_helpMenu->addAction(m_aboutAction);
        m_quitAction->setShortcut(QKeySequence::Quit);

        // Ctrl+Enter queues from either editor, the way chat and prompt tools do.
        auto* addShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
        connect(addShortcut, &QShortcut::activated, this, &MainWindow::addPromptFromEditor);
        connect(m_addButton, &QPushButton::clicked, this, &MainWindow::addPromptFromEditor);
        connect(m_removeButton, &QPushButton::clicked, this, &MainWindow::removeSelected);
        connect(m_renderButton, &QPushButton::clicked, this, [this] {
            if (isRendering()) {
                stopRendering();
            } else {
                startRendering();
            }
        });
        connect(m_modelButton, &QToolButton::clicked, this, &MainWindow::chooseModel);
        connect(m_outputButton, &QToolButton::clicked, this, &MainWindow::chooseOutputFolder);
        connect(m_galleryView, &QListView::activated, this, [this](const QModelIndex& index) {
            const QString path = index.data(GalleryModel::ImagePathRole).toString();
            if (!path.isEmpty()) {
                QDesktopServices::openUrl(QUrl::fromLocalFile(path));
            }
        });
        connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
        connect(m_importAction, &QAction::triggered, this, &MainWindow::chooseFilesToImport);
        connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
        connect(m_promptEdit, &QPlainTextEdit::textChanged, this, &MainWindow::updateActions);
        connect(m_queue, &PromptQueue::sizeChanged, this, &MainWindow::retranslate);
        connect(m_queueView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
                &MainWindow::updateActions);

        loadSettings();
        listDevices();
        retranslate();
        resize(1200, 820);
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

    void MainWindow::addPromptFromEditor()
    {
        RenderSettings job;
        job.prompt = m_promptEdit->toPlainText().trimmed();
        job.negativePrompt = m_negativeEdit->toPlainText().trimmed();
        if (m_queue->enqueue(job)) {
            m_promptEdit->clear();
            m_promptEdit->setFocus();
        }
    }

    void MainWindow::removeSelected()
    {
        QList<int> rows;
        const QModelIndexList selected = m_queueView->selectionModel()->selectedIndexes();
        for (const QModelIndex& index : selected) {
            rows.append(index.row());
        }
        m_queue->removeAt(rows);
    }

    qsizetype MainWindow::importFiles(const QStringList& paths)
    {
        qsizetype queued = 0;
        QStringList problems;
        for (const QString& path : paths) {
            const ImportResult result = importPromptFile(path);
            for (const RenderSettings& job : result.jobs) {
                queued += m_queue->enqueue(job) ? 1 : 0;
            }
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

    void MainWindow::dragEnterEvent(QDragEnterEvent* event)
    {
        const QList<QUrl> urls = event->mimeData()->urls();
        const bool anyLocalFile
            = std::any_of(urls.begin(), urls.end(), [](const QUrl& url) { return url.isLocalFile(); });
        if (anyLocalFile) {
            event->acceptProposedAction();
        }
    }

    void MainWindow::dropEvent(QDropEvent* event)
    {
        QStringList paths;
        for (const QUrl& url : event->mimeData()->urls()) {
            if (url.isLocalFile()) {
                paths.append(url.toLocalFile());
            }
        }
        if (!paths.isEmpty()) {
            event->acceptProposedAction();
            importFiles(paths);
        }
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
            // Into the queue (and so its autosave) before the application goes; the workers' images are written
            // atomically, so none is left half-way.
            takeBackUnfinished();
        }
        QMainWindow::closeEvent(event);
    }

    bool MainWindow::isRendering() const
    {
        return m_coordinator != nullptr;
    }

    quint64 MainWindow::galleryKey(qint64 jobId) const
    {
        return (m_run << 32) | static_cast<quint64>(jobId);
    }

    bool MainWindow::startRendering()
    {
        if (isRendering()) {
            return true;
        }
        QStringList devices;
        for (int i = 0; i < m_deviceList->count(); ++i) {
            if (m_deviceList->item(i)->checkState() == Qt::Checked) {
                devices.append(m_deviceList->item(i)->data(Qt::UserRole).toString());
            }
        }
        if (devices.isEmpty()) {
            m_statusLabel->setText(tr("Choose at least one device to render on."));
            return false;
        }
        const QString output
            = m_outputEdit->text().trimmed().isEmpty() ? defaultOutputFolder() : m_outputEdit->text().trimmed();
        if (!QDir().mkpath(output)) {
            m_statusLabel->setText(tr("Cannot create the output folder %1").arg(QDir::toNativeSeparators(output)));
            return false;
        }
        saveSettings();

        CoordinatorOptions options;
        options.workerProgram = m_workerProgram;
        options.devices = devices;
        options.modelPath = m_modelEdit->text().trimmed();
        options.outputDirectory = QDir(output).absolutePath();
        options.keepRunningWhenIdle = true;
        options.defaults.steps = m_stepsSpin->value();
        options.defaults.cfgScale = m_cfgSpin->value();
        options.defaults.width = m_widthSpin->value();
        options.defaults.height = m_heightSpin->value();
        options.defaults.scheduler = m_samplerCombo->currentData().toString();
        // Each device at its own precision (fp16 on GPUs, fp32 on the CPU), as the batch mode does.
        options.precision = Precision::Auto;

        ++m_run;
        m_runDevices = devices;
        m_deviceActivity.clear();
        m_runEvents.clear();
        m_coordinator = std::make_unique<Coordinator>(options);
        Coordinator* coordinator = m_coordinator.get();
        coordinator->setQueue(m_queue);
        connect(coordinator, &Coordinator::jobStarted, this, [this, coordinator](qint64 id, int rank) {
            const JobRecord& job = coordinator->jobs().at(id);
            m_gallery->jobStarted(galleryKey(id), job.settings.prompt, job.settings.seed.value_or(0));
            m_galleryView->scrollTo(m_gallery->index(m_gallery->rowOf(galleryKey(id))));
            m_deviceActivity[rank] = tr("starting");
            updateDeviceStatus();
        });
        connect(coordinator, &Coordinator::jobProgress, this,
                [this](qint64 id, int rank, int step, int total, double itps) {
                    m_gallery->jobProgress(galleryKey(id), step, total);
                    m_deviceActivity[rank] = tr("%1/%2, %3 it/s").arg(step).arg(total).arg(itps, 0, 'f', 1);
                    updateDeviceStatus();
                });
        connect(coordinator, &Coordinator::jobPreview, this,
                [this](qint64 id, int width, int height, const QByteArray& rgb) {
                    m_gallery->jobPreview(galleryKey(id), width, height, rgb);
                });
        connect(coordinator, &Coordinator::jobFinished, this, [this](qint64 id, const QString& path) {
            m_gallery->jobFinished(galleryKey(id), path);
            retranslate();
        });
        connect(coordinator, &Coordinator::jobFailed, this, [this](qint64 id, const QString& reason, bool willRetry) {
            m_gallery->jobFailed(galleryKey(id), reason, willRetry);
            retranslate();
        });
        // A job stopped with the run is not a failure: it goes back to the queue.
        connect(coordinator, &Coordinator::jobCanceled, this, [this](qint64 id) {
            m_gallery->jobStopped(galleryKey(id));
            retranslate();
        });
        connect(coordinator, &Coordinator::workerEvent, this, [this](int rank, const QString& message) {
            if (rank >= 0) {
                m_deviceActivity[rank] = message;
                updateDeviceStatus();
                m_runEvents.append(u"%1: %2"_s.arg(m_runDevices.value(rank), message));
                if (m_runEvents.size() > 200) {
                    m_runEvents.removeFirst();
                }
            }
        });
        connect(coordinator, &Coordinator::finished, this, &MainWindow::renderingFinished, Qt::QueuedConnection);
        if (const QString error = coordinator->start(); !error.isEmpty()) {
            m_coordinator.reset();
            m_statusLabel->setText(tr("Cannot start rendering: %1").arg(error));
            return false;
        }
        retranslate();
        return true;
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
        // Ends the run first (its workers are killed), so that the coordinator, which feeds on the queue, cannot
        // take the returned jobs again; going, it gives what was running or waiting for a retry back to the front of
        // the queue's store, with its seed. The view then shows them.
        const QList<RenderSettings> unfinished = m_coordinator->unfinishedJobs();
        m_coordinator.reset();
        m_queue->prepend(unfinished);
        m_queue->reload();
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
        m_deviceActivity.clear();
        updateDeviceStatus();
        retranslate();
    }

    void MainWindow::updateDeviceStatus()
    {
        QStringList parts;
        for (int rank = 0; rank < m_runDevices.size() && isRendering(); ++rank) {
            parts.append(u"%1: %2"_s.arg(m_runDevices.at(rank), m_deviceActivity.value(rank, tr("idle"))));
        }
        m_deviceStatus->setText(parts.join(u"   "_s));
    }

    void MainWindow::listDevices()
    {
        auto addDevice = [this](const QString& id, const QString& text) {
            auto* item = new QListWidgetItem(text, m_deviceList);
            item->setData(Qt::UserRole, id);
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
            item->setCheckState(Qt::Unchecked);
            return item;
        };
        addDevice(u"cpu"_s, u"cpu"_s)->setCheckState(Qt::Checked);
        // Asking the worker keeps LibTorch and CUDA out of this process; it takes a moment, so it runs meanwhile.
        auto* list = new QProcess(this);
        m_deviceProbe = list;
        connect(list, &QProcess::errorOccurred, this, [this, list](QProcess::ProcessError error) {
            if (error == QProcess::FailedToStart) {
                m_deviceProbe = nullptr;
                list->deleteLater();
            }
        });
        connect(list, &QProcess::finished, this, [this, list, addDevice](int exitCode, QProcess::ExitStatus status) {
            m_deviceProbe = nullptr;
            list->deleteLater();
            if (status != QProcess::NormalExit || exitCode != 0) {
                return;
            }
            const QStringList saved = QSettings().value(u"render/devices"_s).toStringList();
            bool anyCuda = false;
            for (const QString& line : QString::fromUtf8(list->readAllStandardOutput()).split(u'\n')) {
                const QString id = line.section(u' ', 0, 0);
                const QString description = line.mid(id.size()).simplified();
                if (id == u"cpu"_s) {
                    m_deviceList->item(0)->setText(u"cpu — %1"_s.arg(description));
                } else if (id.startsWith(u"cuda:"_s)) {
                    addDevice(id, u"%1 — %2"_s.arg(id, description));
                    anyCuda = true;
                }
            }
            // First start: every GPU, and the CPU only when there is none. Later: what the artist chose last.
            for (int i = 0; i < m_deviceList->count(); ++i) {
                QListWidgetItem* item = m_deviceList->item(i);
                const QString id = item->data(Qt::UserRole).toString();
                const bool checked = saved.isEmpty() ? (id == u"cpu"_s ? !anyCuda : true) : saved.contains(id);
                item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
            }
        });
        list->start(m_workerProgram, {u"--list-devices"_s});
    }

    void MainWindow::loadSettings()
    {
        const QSettings settings;
        m_stepsSpin->setValue(settings.value(u"render/steps"_s, RenderDefaults::Steps).toInt());
        m_cfgSpin->setValue(settings.value(u"render/cfg"_s, RenderDefaults::CfgScale).toDouble());
        m_widthSpin->setValue(settings.value(u"render/width"_s, RenderDefaults::Width).toInt());
        m_heightSpin->setValue(settings.value(u"render/height"_s, RenderDefaults::Height).toInt());
        m_samplerCombo->setCurrentIndex(
            std::max(0, m_samplerCombo->findData(settings.value(u"render/sampler"_s).toString())));
        m_modelEdit->setText(settings.value(u"render/model"_s).toString());
        m_outputEdit->setText(settings.value(u"render/output"_s, defaultOutputFolder()).toString());
    }

    void MainWindow::saveSettings() const
    {
        QSettings settings;
        settings.setValue(u"render/steps"_s, m_stepsSpin->value());
        settings.setValue(u"render/cfg"_s, m_cfgSpin->value());
        settings.setValue(u"render/width"_s, m_widthSpin->value());
        settings.setValue(u"render/height"_s, m_heightSpin->value());
        settings.setValue(u"render/sampler"_s, m_samplerCombo->currentData().toString());
        settings.setValue(u"render/model"_s, m_modelEdit->text().trimmed());
        settings.setValue(u"render/output"_s, m_outputEdit->text().trimmed());
        QStringList devices;
        for (int i = 0; i < m_deviceList->count(); ++i) {
            if (m_deviceList->item(i)->checkState() == Qt::Checked) {
                devices.append(m_deviceList->item(i)->data(Qt::UserRole).toString());
            }
        }
        settings.setValue(u"render/devices"_s, devices);
    }

    void MainWindow::chooseModel()
    {
        const QString file = QFileDialog::getOpenFileName(this, tr("Choose a model"), m_modelEdit->text(),
                                                          tr("Stable Diffusion 1.x checkpoints (*.safetensors)"));
        if (!file.isEmpty()) {
            m_modelEdit->setText(file);
        }
    }

    void MainWindow::chooseOutputFolder()
    {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Output folder"), m_outputEdit->text());
        if (!folder.isEmpty()) {
            m_outputEdit->setText(folder);
        }
    }

    void MainWindow::retranslate()
    {
        setWindowTitle(tr("Atelier"));
        m_promptLabel->setText(tr("&Prompt"));
        m_negativeLabel->setText(tr("&Negative prompt"));
        m_promptEdit->setPlaceholderText(tr("Describe the image, e.g. a lighthouse at dusk, oil painting"));
        m_negativeEdit->setPlaceholderText(tr("What to avoid, e.g. blurry, low quality"));
        m_addButton->setText(tr("&Add to queue"));
        m_addButton->setToolTip(tr("Queue this prompt (Ctrl+Enter)"));
        m_removeButton->setText(tr("&Remove"));
        m_queueLabel->setText(tr("Queue"));
        m_galleryLabel->setText(tr("&Gallery"));
        m_settingsBox->setTitle(tr("Render settings"));
        m_stepsLabel->setText(tr("&Steps"));
        m_cfgLabel->setText(tr("&CFG scale"));
        m_sizeLabel->setText(tr("Si&ze"));
        m_samplerLabel->setText(tr("Sa&mpler"));
        m_devicesLabel->setText(tr("&Devices"));
        m_modelLabel->setText(tr("M&odel"));
        m_outputLabel->setText(tr("O&utput"));
        m_modelEdit->setPlaceholderText(tr("Built-in test model (abstract noise)"));
        m_modelEdit->setToolTip(tr("A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder"));
        m_modelButton->setToolTip(tr("Choose a model"));
        m_outputButton->setToolTip(tr("Choose the output folder"));
        m_settingsBox->setToolTip(tr("Defaults for prompts that do not set their own"));
        for (int i = 0; i < m_samplerCombo->count(); ++i) {
            const QString id = m_samplerCombo->itemData(i).toString();
            m_samplerCombo->setItemText(i, id.isEmpty() ? tr("Model default") : a1111SamplerName(id));
        }
        m_fileMenu->setTitle(tr("&File"));
        m_helpMenu->setTitle(tr("&Help"));
        m_quitAction->setText(tr("&Quit"));
        m_importAction->setText(tr("&Import prompts…"));
        m_aboutAction->setText(tr("&About Atelier"));
        const int queued = static_cast<int>(m_queue->size());
        if (isRendering()) {
            m_renderButton->setText(tr("S&top"));
            m_renderButton->setToolTip(tr("Stop rendering; unfinished prompts go back to the queue"));
            const int done = m_gallery->countIn(GalleryModel::State::Done);
            const int failed = m_gallery->countIn(GalleryModel::State::Failed);
            if (m_stopRequested) {
                m_statusLabel->setText(tr("Stopping…"));
            } else {
                m_statusLabel->setText(queued == 0 && m_gallery->countIn(GalleryModel::State::Rendering) == 0
                                           ? tr("Rendering: %n image(s) made; waiting for prompts", nullptr, done)
                                           : tr("Rendering: %n image(s) made, %1 queued, %2 failed", nullptr, done)
                                                 .arg(queued)
                                                 .arg(failed));
            }
        } else {
            m_renderButton->setText(tr("&Render"));
            m_renderButton->setToolTip(tr("Render the queue on the checked devices"));
            m_statusLabel->setText(tr("%n prompt(s) queued", nullptr, queued));
        }
        updateActions();
    }

    void MainWindow::updateActions()
    {
        m_addButton->setEnabled(!m_promptEdit->toPlainText().trimmed().isEmpty());
        m_removeButton->setEnabled(m_queueView->selectionModel()->hasSelection());
        m_renderButton->setEnabled(isRendering() ? !m_stopRequested : !m_queue->isEmpty());
        for (QWidget* setting : {static_cast<QWidget*>(m_stepsSpin), static_cast<QWidget*>(m_cfgSpin),
                                 static_cast<QWidget*>(m_widthSpin), static_cast<QWidget*>(m_heightSpin),
                                 static_cast<QWidget*>(m_samplerCombo), static_cast<QWidget*>(m_deviceList),
                                 static_cast<QWidget*>(m_modelEdit), static_cast<QWidget*>(m_outputEdit),
                                 static_cast<QWidget*>(m_modelButton), static_cast<QWidget*>(m_outputButton)}) {
            // A run keeps the settings it started with; changing them mid-run would only mislead.
            setting->setEnabled(!isRendering());
        }
    }
} // namespace Atelier
