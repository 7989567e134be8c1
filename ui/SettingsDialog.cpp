// SPDX-License-Identifier: GPL-3.0-or-later
#include "SettingsDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFont>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPromise>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QThreadPool>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "Theme.h"
#include "ipc/Protocol.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        enum ModelColumn
        {
            NameColumn,
            KindColumn,
            SourceColumn,
            SizeColumn,
            ProblemColumn,
            ModelColumnCount
        };

        constexpr int PathRole = Qt::UserRole;
        constexpr int SourceRole = Qt::UserRole + 1;
        constexpr int UsableRole = Qt::UserRole + 2;

        /// The VAE works in blocks of 8 pixels: a typed 100 becomes 104, the size the image will have.
        int roundedSide(int side)
        {
            const int multiple = RenderLimits::SideMultiple;
            return std::clamp((side + multiple - 1) / multiple * multiple, RenderLimits::MinSide,
                              RenderLimits::MaxSide);
        }

        /// Both paths are written the same ("a/b/" and "a/b" are). Without looking at the disk: this runs as the
        /// artist types.
        bool samePath(const QString& a, const QString& b)
        {
            return !a.isEmpty() && !b.isEmpty()
                && QDir::cleanPath(QDir::fromNativeSeparators(a)) == QDir::cleanPath(QDir::fromNativeSeparators(b));
        }
    } // namespace

    SettingsDialog::SettingsDialog(const AppSettings& settings, QWidget* parent)
        : QDialog(parent)
        , m_initial(settings)
        , m_appliedTheme(settings.theme)
    {
        setWindowTitle(tr("Settings"));
        setObjectName(u"settingsDialog"_s);

        m_pages = new QTabWidget(this);
        m_pages->setObjectName(u"pages"_s);
        m_pages->addTab(makeModelsPage(), tr("&Models"));
        m_pages->addTab(makeNetworksPage(), tr("&LoRAs and VAEs"));
        m_pages->addTab(makeOutputPage(), tr("&Output"));
        m_pages->addTab(makeDefaultsPage(), tr("&Defaults"));
        m_pages->addTab(makeWorkersPage(), tr("&Workers"));
        m_pages->addTab(makeAppearancePage(), tr("&Appearance"));

        m_buttons
            = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::Apply, this);
        m_buttons->setObjectName(u"buttons"_s);
        connect(m_buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
        connect(m_buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
        connect(m_buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, this, &SettingsDialog::apply);

        auto* layout = new QVBoxLayout(this);
        layout->addWidget(m_pages);
        layout->addWidget(m_buttons);
        resize(820, 560);

        fill(settings);
        rescan();
    }

    SettingsDialog::~SettingsDialog()
    {
        if (m_cancelScan) {
            m_cancelScan->store(true);
        }
        // Closed some other way than Cancel (its parent went away) while a theme was being previewed.
        if (static_cast<Theme>(m_themeCombo->currentData().toInt()) != m_appliedTheme) {
            applyTheme(m_appliedTheme);
        }
    }

    QWidget* SettingsDialog::makeModelsPage()
    {
        auto* page = new QWidget(this);

        auto* modelLabel = new QLabel(tr("Default mode&l:"), page);
        m_modelEdit = new QLineEdit(page);
        m_modelEdit->setObjectName(u"modelEdit"_s);
        m_modelEdit->setPlaceholderText(tr("The built-in tiny model"));
        m_modelEdit->setToolTip(tr("A .safetensors checkpoint or a diffusers folder; pick one below and press "
                                   "\"Use as default\", or double-click it"));
        modelLabel->setBuddy(m_modelEdit);
        auto* browseModel = new QPushButton(tr("&Browse…"), page);
        browseModel->setObjectName(u"browseModelButton"_s);
        connect(browseModel, &QPushButton::clicked, this, [this] {
            const QString file = QFileDialog::getOpenFileName(this, tr("Choose a model"), m_modelEdit->text(),
                                                              tr("Safetensors checkpoints (*.safetensors)"));
            if (!file.isEmpty()) {
                m_modelEdit->setText(QDir::toNativeSeparators(file));
            }
        });
        connect(m_modelEdit, &QLineEdit::textChanged, this, [this] {
            updatePattern(); // the example shows the model's name
            // The default model's row is bold.
            const QString chosen = m_modelEdit->text().trimmed();
            for (int row = 0; row < m_modelTable->rowCount(); ++row) {
                QTableWidgetItem* item = m_modelTable->item(row, NameColumn);
                QFont font = item->font();
                font.setBold(samePath(item->data(PathRole).toString(), chosen));
                item->setFont(font);
            }
        });
        auto* modelRow = new QHBoxLayout;
        modelRow->addWidget(modelLabel);
        modelRow->addWidget(m_modelEdit, 1);
        modelRow->addWidget(browseModel);

        auto* tableLabel = new QLabel(tr("Mod&els found:"), page);
        m_modelTable = new QTableWidget(0, ModelColumnCount, page);
        m_modelTable->setObjectName(u"modelTable"_s);
        m_modelTable->setHorizontalHeaderLabels({tr("Name"), tr("Kind"), tr("Source"), tr("Size"), tr("Problem")});
        m_modelTable->setSelectionBehavior(QAbstractItemView::SelectRows);
        m_modelTable->setSelectionMode(QAbstractItemView::SingleSelection);
        m_modelTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
        m_modelTable->setTabKeyNavigation(false);
        m_modelTable->setWordWrap(false);
        m_modelTable->verticalHeader()->hide();
        m_modelTable->horizontalHeader()->setStretchLastSection(true);
        m_modelTable->horizontalHeader()->setSectionResizeMode(NameColumn, QHeaderView::Interactive);
        m_modelTable->setColumnWidth(NameColumn, 260);
        tableLabel->setBuddy(m_modelTable);
        // Double-click or Enter.
        connect(m_modelTable, &QTableWidget::activated, this, &SettingsDialog::useSelectedModel);
        connect(m_modelTable, &QTableWidget::itemSelectionChanged, this, &SettingsDialog::updateModelButtons);

        m_scanStatus = new QLabel(page);
        m_scanStatus->setObjectName(u"scanStatus"_s);
        m_scanStatus->setWordWrap(true);
        m_scanStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_useModelButton = new QPushButton(tr("&Use as default"), page);
        m_useModelButton->setObjectName(u"useModelButton"_s);
        connect(m_useModelButton, &QPushButton::clicked, this, &SettingsDialog::useSelectedModel);
        auto* rescanButton = new QPushButton(tr("Re&scan"), page);
        rescanButton->setObjectName(u"rescanButton"_s);
        connect(rescanButton, &QPushButton::clicked, this, &SettingsDialog::rescan);
        auto* statusRow = new QHBoxLayout;
        statusRow->addWidget(m_scanStatus, 1);
        statusRow->addWidget(m_useModelButton);
        statusRow->addWidget(rescanButton);

        auto* foldersLabel = new QLabel(tr("Folders to searc&h (and the Hugging Face cache, %1):")
                                            .arg(QDir::toNativeSeparators(defaultHuggingFaceCache())),
                                        page);
        foldersLabel->setWordWrap(true);
        m_folderList = new QTreeWidget(page);
        m_folderList->setObjectName(u"folderList"_s);
        m_folderList->setHeaderLabels({tr("Folder"), tr("Kind")});
        m_folderList->setRootIsDecorated(false);
        m_folderList->setColumnWidth(0, 520);
        foldersLabel->setBuddy(m_folderList);
        connect(m_folderList, &QTreeWidget::itemSelectionChanged, this, &SettingsDialog::updateModelButtons);
        auto* addFolder = new QPushButton(tr("Add &folder…"), page);
        addFolder->setObjectName(u"addFolderButton"_s);
        addFolder->setToolTip(tr("A folder with diffusers models or .safetensors checkpoints, searched with its "
                                 "subfolders"));
        connect(addFolder, &QPushButton::clicked, this, [this] { pickFolder(DiscoveredModel::Source::AddedFolder); });
        auto* addWebui = new QPushButton(tr("Add AUTOMATIC&1111 folder…"), page);
        addWebui->setObjectName(u"addAutomatic1111Button"_s);
        addWebui->setToolTip(tr("The stable-diffusion-webui folder, or its models/Stable-diffusion folder"));
        connect(addWebui, &QPushButton::clicked, this, [this] { pickFolder(DiscoveredModel::Source::Automatic1111); });
        auto* addComfy = new QPushButton(tr("Add &ComfyUI folder…"), page);
        addComfy->setObjectName(u"addComfyUiButton"_s);
        addComfy->setToolTip(tr("The ComfyUI folder, or its models/checkpoints folder"));
        connect(addComfy, &QPushButton::clicked, this, [this] { pickFolder(DiscoveredModel::Source::ComfyUi); });
        m_removeFolderButton = new QPushButton(tr("&Remove folder"), page);
        m_removeFolderButton->setObjectName(u"removeFolderButton"_s);
        connect(m_removeFolderButton, &QPushButton::clicked, this, &SettingsDialog::removeSelectedFolder);
        auto* folderButtons = new QVBoxLayout;
        folderButtons->addWidget(addFolder);
        folderButtons->addWidget(addWebui);
        folderButtons->addWidget(addComfy);
        folderButtons->addWidget(m_removeFolderButton);
        folderButtons->addStretch();
        auto* folderRow = new QHBoxLayout;
        folderRow->addWidget(m_folderList, 1);
        folderRow->addLayout(folderButtons);

        auto* layout = new QVBoxLayout(page);
        layout->addLayout(modelRow);
        layout->addWidget(tableLabel);
        layout->addWidget(m_modelTable, 3);
        layout->addLayout(statusRow);
        layout->addWidget(foldersLabel);
        layout->addLayout(folderRow, 1);
        return page;
    }

    QWidget* SettingsDialog::makeNetworksPage()
    {
        auto* page = new QWidget(this);
        auto* layout = new QVBoxLayout(page);
        auto* intro = new QLabel(tr("Prompts name LoRAs (<lora:NAME:WEIGHT>) and embeddings by file name, and an item "
                                    "may name a VAE; they are looked for in these folders and their subfolders, first "
                                    "to last."),
                                 page);
        intro->setWordWrap(true);
        layout->addWidget(intro);
        const QString data
            = QDir::toNativeSeparators(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
        struct Kind
        {
            QListWidget** list;
            QString objectName;
            QString title;
            QString usual;
        };
        const QList<Kind> kinds{
            {&m_loraFolderList, u"loraFolderList"_s, tr("Lo&RA folders"),
             tr("Then %1, and models/Lora of each AUTOMATIC1111 folder and models/loras of each ComfyUI folder on "
                "the Models page.")
                 .arg(QDir(data).filePath(u"loras"_s))},
            {&m_embeddingFolderList, u"embeddingFolderList"_s, tr("&Embedding folders"),
             tr("Then %1, and embeddings of each AUTOMATIC1111 folder and models/embeddings of each ComfyUI folder "
                "on the Models page.")
                 .arg(QDir(data).filePath(u"embeddings"_s))},
            {&m_vaeFolderList, u"vaeFolderList"_s, tr("&VAE folders"),
             tr("Then %1, and models/VAE of each AUTOMATIC1111 folder and models/vae of each ComfyUI folder on the "
                "Models page.")
                 .arg(QDir(data).filePath(u"vae"_s))},
        };
        for (const Kind& kind : kinds) {
            auto* label = new QLabel(kind.title, page);
            auto* list = new QListWidget(page);
            list->setObjectName(kind.objectName);
            label->setBuddy(list);
            *kind.list = list;
            auto* add = new QPushButton(tr("Add…"), page);
            add->setObjectName(kind.objectName + u"Add"_s);
            auto* remove = new QPushButton(tr("Remove"), page);
            remove->setObjectName(kind.objectName + u"Remove"_s);
            remove->setEnabled(false);
            connect(list, &QListWidget::itemSelectionChanged, remove,
                    [list, remove] { remove->setEnabled(!list->selectedItems().isEmpty()); });
            connect(remove, &QPushButton::clicked, list, [list] { qDeleteAll(list->selectedItems()); });
            connect(add, &QPushButton::clicked, this, [this, list, title = kind.title] {
                const QString folder = QFileDialog::getExistingDirectory(this, QString(title).remove(u'&'));
                if (!folder.isEmpty()
                    && list->findItems(QDir::toNativeSeparators(folder), Qt::MatchExactly).isEmpty()) {
                    list->addItem(QDir::toNativeSeparators(folder));
                }
            });
            auto* usual = new QLabel(kind.usual, page);
            usual->setWordWrap(true);
            usual->setTextInteractionFlags(Qt::TextSelectableByMouse);
            auto* buttons = new QVBoxLayout;
            buttons->addWidget(add);
            buttons->addWidget(remove);
            buttons->addStretch();
            auto* row = new QHBoxLayout;
            row->addWidget(list, 1);
            row->addLayout(buttons);
            layout->addWidget(label);
            layout->addLayout(row, 1);
            layout->addWidget(usual);
        }
        return page;
    }

    QWidget* SettingsDialog::makeOutputPage()
    {
        auto* page = new QWidget(this);
        m_outputEdit = new QLineEdit(page);
        m_outputEdit->setObjectName(u"outputEdit"_s);
        m_outputEdit->setPlaceholderText(QDir::toNativeSeparators(AppSettings::defaultOutputDirectory()));
        auto* browse = new QPushButton(tr("B&rowse…"), page);
        browse->setObjectName(u"browseOutputButton"_s);
        connect(browse, &QPushButton::clicked, this, [this] {
            const QString folder
                = QFileDialog::getExistingDirectory(this, tr("Choose the output folder"), m_outputEdit->text());
            if (!folder.isEmpty()) {
                m_outputEdit->setText(QDir::toNativeSeparators(folder));
            }
        });
        auto* outputRow = new QHBoxLayout;
        outputRow->addWidget(m_outputEdit, 1);
        outputRow->addWidget(browse);

        m_patternEdit = new QLineEdit(page);
        m_patternEdit->setObjectName(u"patternEdit"_s);
        m_patternEdit->setPlaceholderText(DefaultNamingPattern.toString());
        auto* reset = new QPushButton(tr("R&eset"), page);
        reset->setObjectName(u"resetPatternButton"_s);
        reset->setToolTip(tr("Back to %1").arg(DefaultNamingPattern.toString()));
        connect(reset, &QPushButton::clicked, this,
                [this] { m_patternEdit->setText(DefaultNamingPattern.toString()); });
        auto* patternRow = new QHBoxLayout;
        patternRow->addWidget(m_patternEdit, 1);
        patternRow->addWidget(reset);
        connect(m_patternEdit, &QLineEdit::textChanged, this, &SettingsDialog::updatePattern);

        m_patternExample = new QLabel(page);
        m_patternExample->setObjectName(u"patternExample"_s);
        m_patternExample->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_patternError = new QLabel(page);
        m_patternError->setObjectName(u"patternError"_s);
        m_patternError->setWordWrap(true);
        m_patternError->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_patternError->setStyleSheet(u"color: #d03030;"_s);
        auto* tokens = new QLabel(
            tr("Every name starts with a running number (00012-), so no image is ever replaced. Tokens, as "
               "AUTOMATIC1111 names them: %1. [prompt_words] is the prompt's first words, [time] is hours-minutes-"
               "seconds, [item] the queue item's number.")
                .arg(namingTokens().join(u", "_s)),
            page);
        tokens->setWordWrap(true);

        auto* form = new QFormLayout(page);
        auto* outputLabel = new QLabel(tr("Output fo&lder:"), page);
        outputLabel->setBuddy(m_outputEdit);
        auto* patternLabel = new QLabel(tr("&Naming pattern:"), page);
        patternLabel->setBuddy(m_patternEdit);
        form->addRow(outputLabel, outputRow);
        form->addRow(patternLabel, patternRow);
        form->addRow(QString(), m_patternExample);
        form->addRow(QString(), m_patternError);
        form->addRow(QString(), tokens);
        return page;
    }

    QWidget* SettingsDialog::makeDefaultsPage()
    {
        auto* page = new QWidget(this);
        m_stepsSpin = new QSpinBox(page);
        m_stepsSpin->setObjectName(u"stepsSpin"_s);
        m_stepsSpin->setRange(RenderLimits::MinSteps, RenderLimits::MaxSteps);
        m_cfgSpin = new QDoubleSpinBox(page);
        m_cfgSpin->setObjectName(u"cfgSpin"_s);
        m_cfgSpin->setRange(RenderLimits::MinCfgScale, RenderLimits::MaxCfgScale);
        m_cfgSpin->setSingleStep(0.5);
        m_cfgSpin->setDecimals(1);
        m_widthSpin = new QSpinBox(page);
        m_widthSpin->setObjectName(u"widthSpin"_s);
        m_heightSpin = new QSpinBox(page);
        m_heightSpin->setObjectName(u"heightSpin"_s);
        for (QSpinBox* side : {m_widthSpin, m_heightSpin}) {
            side->setRange(RenderLimits::MinSide, RenderLimits::MaxSide);
            side->setSingleStep(64);
            side->setSuffix(u" px"_s);
            connect(side, &QSpinBox::editingFinished, side, [side] { side->setValue(roundedSide(side->value())); });
        }
        m_samplerCombo = new QComboBox(page);
        m_samplerCombo->setObjectName(u"samplerCombo"_s);
        m_samplerCombo->addItem(tr("Model default"), QString());
        for (const QString& sampler : samplerNames()) {
            m_samplerCombo->addItem(a1111SamplerName(sampler), sampler);
        }
        m_negativeEdit = new QPlainTextEdit(page);
        m_negativeEdit->setObjectName(u"negativeEdit"_s);
        m_negativeEdit->setTabChangesFocus(true);
        m_negativeEdit->setPlaceholderText(tr("What the images should not show, for prompts that do not say"));
        m_imagesSpin = new QSpinBox(page);
        m_imagesSpin->setObjectName(u"imagesSpin"_s);
        m_imagesSpin->setRange(1, AppSettings::MaxImagesPerPrompt);
        for (QSpinBox* spin : {m_stepsSpin, m_widthSpin, m_heightSpin}) {
            connect(spin, &QSpinBox::valueChanged, this, &SettingsDialog::updatePattern);
        }
        connect(m_cfgSpin, &QDoubleSpinBox::valueChanged, this, &SettingsDialog::updatePattern);
        connect(m_samplerCombo, &QComboBox::currentIndexChanged, this, &SettingsDialog::updatePattern);

        auto* sizeRow = new QHBoxLayout;
        sizeRow->addWidget(m_widthSpin);
        sizeRow->addWidget(new QLabel(u"×"_s, page));
        sizeRow->addWidget(m_heightSpin);
        sizeRow->addStretch();

        auto* form = new QFormLayout(page);
        const auto addRow = [form, page](const QString& text, QWidget* buddy, auto field) {
            auto* label = new QLabel(text, page);
            label->setBuddy(buddy);
            form->addRow(label, field);
        };
        addRow(tr("S&teps:"), m_stepsSpin, m_stepsSpin);
        addRow(tr("&CFG scale:"), m_cfgSpin, m_cfgSpin);
        addRow(tr("S&ize:"), m_widthSpin, sizeRow);
        addRow(tr("Sam&pler:"), m_samplerCombo, m_samplerCombo);
        addRow(tr("&Negative prompt:"), m_negativeEdit, m_negativeEdit);
        addRow(tr("Images per p&rompt:"), m_imagesSpin, m_imagesSpin);
        auto* note = new QLabel(tr("New prompts start with these values; prompts already queued keep theirs."), page);
        note->setWordWrap(true);
        form->addRow(QString(), note);
        return page;
    }

    QWidget* SettingsDialog::makeWorkersPage()
    {
        auto* page = new QWidget(this);
        m_batchSpin = new QSpinBox(page);
        m_batchSpin->setObjectName(u"batchSpin"_s);
        m_batchSpin->setRange(0, Ipc::MaxBatch);
        m_batchSpin->setSpecialValueText(tr("Automatic"));
        auto* label = new QLabel(tr("&Batch size:"), page);
        label->setBuddy(m_batchSpin);
        auto* note = new QLabel(tr("Most images a worker renders at once. Automatic: as many as the device's free "
                                   "memory holds. A smaller number leaves memory for other programs."),
                                page);
        note->setWordWrap(true);
        m_cpuWorkersSpin = new QSpinBox(page);
        m_cpuWorkersSpin->setObjectName(u"cpuWorkersSpin"_s);
        m_cpuWorkersSpin->setRange(1, AppSettings::MaxCpuWorkers);
        auto* cpuLabel = new QLabel(tr("&CPU workers:"), page);
        cpuLabel->setBuddy(m_cpuWorkersSpin);
        auto* cpuNote = new QLabel(tr("Worker processes on the CPU, each with its share of the cores; each is a row "
                                      "of the device board. Takes effect when the window starts again."),
                                   page);
        cpuNote->setWordWrap(true);
        auto* form = new QFormLayout(page);
        form->addRow(label, m_batchSpin);
        form->addRow(QString(), note);
        form->addRow(cpuLabel, m_cpuWorkersSpin);
        form->addRow(QString(), cpuNote);
        return page;
    }

    QWidget* SettingsDialog::makeAppearancePage()
    {
        auto* page = new QWidget(this);
        m_themeCombo = new QComboBox(page);
        m_themeCombo->setObjectName(u"themeCombo"_s);
        m_themeCombo->addItem(tr("System"), int(Theme::System));
        m_themeCombo->addItem(tr("Light"), int(Theme::Light));
        m_themeCombo->addItem(tr("Dark"), int(Theme::Dark));
        auto* label = new QLabel(tr("&Theme:"), page);
        label->setBuddy(m_themeCombo);
        auto* form = new QFormLayout(page);
        form->addRow(label, m_themeCombo);
        return page;
    }

    void SettingsDialog::fill(const AppSettings& s)
    {
        m_folderList->clear();
        const auto addFolders
            = [this](const QStringList& folders, DiscoveredModel::Source source, const QString& kind) {
                  for (const QString& folder : folders) {
                      auto* item = new QTreeWidgetItem(m_folderList, {QDir::toNativeSeparators(folder), kind});
                      item->setData(0, PathRole, folder);
                      item->setData(0, SourceRole, int(source));
                      item->setToolTip(0, QDir::toNativeSeparators(folder));
                  }
              };
        addFolders(s.modelFolders, DiscoveredModel::Source::AddedFolder, tr("Added folder"));
        addFolders(s.automatic1111Roots, DiscoveredModel::Source::Automatic1111, u"AUTOMATIC1111"_s);
        addFolders(s.comfyUiRoots, DiscoveredModel::Source::ComfyUi, u"ComfyUI"_s);
        for (const auto& [list, folders] :
             {std::pair{m_loraFolderList, &s.loraFolders}, std::pair{m_embeddingFolderList, &s.embeddingFolders},
              std::pair{m_vaeFolderList, &s.vaeFolders}}) {
            list->clear();
            for (const QString& folder : *folders) {
                list->addItem(QDir::toNativeSeparators(folder));
            }
        }
        m_modelEdit->setText(QDir::toNativeSeparators(s.modelPath));
        m_outputEdit->setText(QDir::toNativeSeparators(s.outputDirectory));
        m_patternEdit->setText(s.namingPattern);
        m_stepsSpin->setValue(s.steps);
        m_cfgSpin->setValue(s.cfgScale);
        m_widthSpin->setValue(s.width);
        m_heightSpin->setValue(s.height);
        m_samplerCombo->setCurrentIndex(std::max(0, m_samplerCombo->findData(s.sampler)));
        m_negativeEdit->setPlainText(s.negativePrompt);
        m_imagesSpin->setValue(s.imagesPerPrompt);
        m_batchSpin->setValue(s.maxBatch);
        m_cpuWorkersSpin->setValue(s.cpuWorkers);
        m_themeCombo->setCurrentIndex(std::max(0, m_themeCombo->findData(int(s.theme))));
        // Connected only now, so that showing the stored theme is no preview.
        connect(m_themeCombo, &QComboBox::currentIndexChanged, this, &SettingsDialog::previewTheme,
                Qt::UniqueConnection);
        updatePattern();
        updateModelButtons();
    }

    AppSettings SettingsDialog::settings() const
    {
        AppSettings s = m_initial;
        s.modelFolders = folders(DiscoveredModel::Source::AddedFolder);
        s.automatic1111Roots = folders(DiscoveredModel::Source::Automatic1111);
        s.comfyUiRoots = folders(DiscoveredModel::Source::ComfyUi);
        for (const auto& [list, folders] :
             {std::pair{m_loraFolderList, &s.loraFolders}, std::pair{m_embeddingFolderList, &s.embeddingFolders},
              std::pair{m_vaeFolderList, &s.vaeFolders}}) {
            folders->clear();
            for (int i = 0; i < list->count(); ++i) {
                folders->append(QDir::fromNativeSeparators(list->item(i)->text()));
            }
        }
        s.modelPath = QDir::fromNativeSeparators(m_modelEdit->text().trimmed());
        const QString output = QDir::fromNativeSeparators(m_outputEdit->text().trimmed());
        s.outputDirectory = output.isEmpty() ? AppSettings::defaultOutputDirectory() : output;
        s.namingPattern = m_patternEdit->text();
        s.steps = m_stepsSpin->value();
        s.cfgScale = m_cfgSpin->value();
        s.width = roundedSide(m_widthSpin->value());
        s.height = roundedSide(m_heightSpin->value());
        s.sampler = m_samplerCombo->currentData().toString();
        s.negativePrompt = m_negativeEdit->toPlainText();
        s.imagesPerPrompt = m_imagesSpin->value();
        s.maxBatch = m_batchSpin->value();
        s.cpuWorkers = m_cpuWorkersSpin->value();
        s.theme = static_cast<Theme>(m_themeCombo->currentData().toInt());
        return s;
    }

    void SettingsDialog::showPage(Page page)
    {
        m_pages->setCurrentIndex(int(page));
    }

    QStringList SettingsDialog::folders(DiscoveredModel::Source source) const
    {
        QStringList folders;
        for (int i = 0; i < m_folderList->topLevelItemCount(); ++i) {
            const QTreeWidgetItem* item = m_folderList->topLevelItem(i);
            if (item->data(0, SourceRole).toInt() == int(source)) {
                folders.append(item->data(0, PathRole).toString());
            }
        }
        return folders;
    }

    void SettingsDialog::rescan()
    {
        // A search still running is told to stop; its result, should it still come, is not shown.
        if (m_cancelScan) {
            m_cancelScan->store(true);
        }
        if (m_watcher) {
            m_watcher->disconnect(this);
            m_watcher->deleteLater();
        }
        auto cancel = std::make_shared<std::atomic_bool>(false);
        m_cancelScan = cancel;
        const ModelLocations locations = settings().modelLocations();
        auto promise = std::make_shared<QPromise<ModelDiscoveryResult>>();
        m_watcher = new QFutureWatcher<ModelDiscoveryResult>(this);
        connect(m_watcher, &QFutureWatcherBase::finished, this, [this] {
            QFutureWatcher<ModelDiscoveryResult>* watcher = std::exchange(m_watcher, nullptr);
            watcher->deleteLater();
            if (watcher->future().resultCount() > 0) {
                showModels(watcher->result());
            }
            emit scanFinished();
        });
        m_watcher->setFuture(promise->future());
        promise->start();
        // The promise and the flag are the task's own: the dialog may be gone when it ends.
        QThreadPool::globalInstance()->start([promise, cancel, locations] {
            promise->addResult(discoverModels(locations, cancel.get()));
            promise->finish();
        });
        m_scanStatus->setText(tr("Looking for models…"));
        m_scanStatus->setToolTip(QString());
    }

    void SettingsDialog::showModels(const ModelDiscoveryResult& result)
    {
        m_models = result.models;
        const QString chosen = m_modelEdit->text().trimmed();
        const QLocale locale;
        m_modelTable->setRowCount(0);
        m_modelTable->setRowCount(int(m_models.size()));
        int unusable = 0;
        for (int row = 0; row < m_models.size(); ++row) {
            const DiscoveredModel& model = m_models.at(row);
            const bool usable = model.isUsable();
            unusable += usable ? 0 : 1;
            QString source;
            switch (model.source) {
            case DiscoveredModel::Source::HuggingFaceCache:
                source = tr("Hugging Face cache");
                break;
            case DiscoveredModel::Source::Automatic1111:
                source = u"AUTOMATIC1111"_s;
                break;
            case DiscoveredModel::Source::ComfyUi:
                source = u"ComfyUI"_s;
                break;
            case DiscoveredModel::Source::AddedFolder:
                source = tr("Added folder");
                break;
            }
            const QStringList cells{
                model.name,
                model.kind == DiscoveredModel::Kind::DiffusersFolder ? tr("Diffusers folder") : tr("Single file"),
                source,
                locale.formattedDataSize(model.size),
                model.problem,
            };
            for (int column = 0; column < ModelColumnCount; ++column) {
                auto* item = new QTableWidgetItem(cells.at(column));
                item->setToolTip(column == ProblemColumn && !usable ? model.problem
                                                                    : QDir::toNativeSeparators(model.path));
                if (!usable) {
                    item->setForeground(palette().brush(QPalette::Disabled, QPalette::Text));
                }
                m_modelTable->setItem(row, column, item);
            }
            QTableWidgetItem* name = m_modelTable->item(row, NameColumn);
            name->setData(PathRole, model.path);
            name->setData(UsableRole, usable);
            QFont font = name->font();
            font.setBold(samePath(model.path, chosen));
            name->setFont(font);
            m_modelTable->item(row, SizeColumn)->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        }
        m_modelTable->resizeColumnToContents(KindColumn);
        m_modelTable->resizeColumnToContents(SourceColumn);
        m_modelTable->resizeColumnToContents(SizeColumn);

        QString status
            = m_models.isEmpty() ? tr("No models found.") : tr("%n model(s) found", nullptr, int(m_models.size()));
        if (unusable > 0) {
            status += tr(", %n of them cannot be used (see Problem)", nullptr, unusable);
        }
        if (!result.skipped.isEmpty()) {
            status += u"; "_s + tr("%n place(s) skipped (hover for details)", nullptr, int(result.skipped.size()));
        }
        m_scanStatus->setText(status);
        m_scanStatus->setToolTip(result.skipped.join(u'\n'));
        updateModelButtons();
    }

    void SettingsDialog::updateModelButtons()
    {
        const QList<QTableWidgetItem*> selected = m_modelTable->selectedItems();
        const QTableWidgetItem* name
            = selected.isEmpty() ? nullptr : m_modelTable->item(selected.first()->row(), NameColumn);
        m_useModelButton->setEnabled(name && name->data(UsableRole).toBool());
        m_removeFolderButton->setEnabled(!m_folderList->selectedItems().isEmpty());
    }

    void SettingsDialog::useSelectedModel()
    {
        const int row = m_modelTable->currentRow();
        const QTableWidgetItem* name = row >= 0 ? m_modelTable->item(row, NameColumn) : nullptr;
        if (!name) {
            return;
        }
        if (!name->data(UsableRole).toBool()) {
            m_scanStatus->setText(m_models.value(row).problem);
            return;
        }
        m_modelEdit->setText(QDir::toNativeSeparators(name->data(PathRole).toString()));
    }

    void SettingsDialog::pickFolder(DiscoveredModel::Source source)
    {
        QString title = tr("Add a folder with models");
        if (source == DiscoveredModel::Source::Automatic1111) {
            title = tr("Add an AUTOMATIC1111 (stable-diffusion-webui) folder");
        } else if (source == DiscoveredModel::Source::ComfyUi) {
            title = tr("Add a ComfyUI folder");
        }
        const QString folder = QFileDialog::getExistingDirectory(this, title, QDir::homePath());
        if (!folder.isEmpty()) {
            addModelFolder(folder, source);
        }
    }

    void SettingsDialog::addModelFolder(const QString& folder, DiscoveredModel::Source source)
    {
        const QString path = QDir::cleanPath(QDir::fromNativeSeparators(folder.trimmed()));
        if (folder.trimmed().isEmpty() || source == DiscoveredModel::Source::HuggingFaceCache) {
            return;
        }
        if (folders(source).contains(path)) {
            rescan(); // asked again: perhaps its contents changed
            return;
        }
        QString kind = tr("Added folder");
        if (source == DiscoveredModel::Source::Automatic1111) {
            kind = u"AUTOMATIC1111"_s;
        } else if (source == DiscoveredModel::Source::ComfyUi) {
            kind = u"ComfyUI"_s;
        }
        auto* item = new QTreeWidgetItem(m_folderList, {QDir::toNativeSeparators(path), kind});
        item->setData(0, PathRole, path);
        item->setData(0, SourceRole, int(source));
        item->setToolTip(0, QDir::toNativeSeparators(path));
        m_folderList->setCurrentItem(item);
        rescan();
    }

    void SettingsDialog::removeSelectedFolder()
    {
        const QList<QTreeWidgetItem*> selected = m_folderList->selectedItems();
        if (selected.isEmpty()) {
            return;
        }
        qDeleteAll(selected);
        updateModelButtons();
        rescan();
    }

    void SettingsDialog::updatePattern()
    {
        const QString pattern = m_patternEdit->text();
        const QString problem = checkNamingPattern(pattern);
        // The example uses the defaults on the other pages, so the artist sees their own names.
        ImageNameValues values = exampleImageNameValues();
        values.model = modelShortName(QDir::fromNativeSeparators(m_modelEdit->text()));
        values.sampler = m_samplerCombo->currentData().toString();
        values.steps = m_stepsSpin->value();
        values.cfgScale = m_cfgSpin->value();
        values.width = roundedSide(m_widthSpin->value());
        values.height = roundedSide(m_heightSpin->value());
        m_patternExample->setText(problem.isEmpty() ? tr("Example: %1").arg(namingPatternExample(pattern, values))
                                                    : QString());
        m_patternError->setText(problem);
        m_patternError->setVisible(!problem.isEmpty());
        for (const QDialogButtonBox::StandardButton button : {QDialogButtonBox::Ok, QDialogButtonBox::Apply}) {
            m_buttons->button(button)->setEnabled(problem.isEmpty());
        }
    }

    void SettingsDialog::previewTheme()
    {
        applyTheme(static_cast<Theme>(m_themeCombo->currentData().toInt()));
    }

    void SettingsDialog::apply()
    {
        if (!checkNamingPattern(m_patternEdit->text()).isEmpty()) {
            return;
        }
        const AppSettings current = settings();
        m_appliedTheme = current.theme;
        emit applied(current);
    }

    void SettingsDialog::accept()
    {
        if (!checkNamingPattern(m_patternEdit->text()).isEmpty()) {
            showPage(OutputPage);
            m_patternEdit->setFocus();
            return;
        }
        apply();
        QDialog::accept();
    }

    void SettingsDialog::reject()
    {
        if (static_cast<Theme>(m_themeCombo->currentData().toInt()) != m_appliedTheme) {
            applyTheme(m_appliedTheme);
        }
        QDialog::reject();
    }
} // namespace Atelier
