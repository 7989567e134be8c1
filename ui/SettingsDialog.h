// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QFutureWatcher>
#include <QList>

#include <atomic>
#include <memory>

#include "AppSettings.h"
#include "render/ModelDiscovery.h"

class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;
class QTreeWidget;

namespace Atelier
{
    /// The preferences: pages Models (the models found on this machine, the folders searched, the default model),
    /// Output (folder, naming pattern with a live example), Defaults (render settings, within RenderLimits), Workers
    /// (batch size) and Appearance (theme).
    ///
    /// It neither reads nor writes QSettings: the caller gives the settings, and takes settings() back on Apply or
    /// OK (both emit applied()), then saves them (AppSettings::save()) and puts them to use. Models are looked for
    /// off the UI thread when the dialog opens and on Rescan; the dialog may close while that runs. The theme is
    /// applied while it is chosen, as a preview, and put back as it was on Cancel.
    ///
    /// Example:
    /// ```
    /// auto* dialog = new SettingsDialog(AppSettings::load(), this);
    /// dialog->setAttribute(Qt::WA_DeleteOnClose);
    /// connect(dialog, &SettingsDialog::applied, this, [this](const AppSettings& s) { s.save(); useSettings(s); });
    /// dialog->open();
    /// ```
    class SettingsDialog final : public QDialog
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(SettingsDialog)

    public:
        enum Page
        {
            ModelsPage,
            NetworksPage, ///< LoRA, embedding and VAE folders
            OutputPage,
            DefaultsPage,
            WorkersPage,
            AppearancePage
        };
        Q_ENUM(Page)

        explicit SettingsDialog(const AppSettings& settings, QWidget* parent = nullptr);
        /// Stops a model search that still runs, and puts back a theme previewed but not applied.
        ~SettingsDialog() override;

        /// The settings as the dialog shows them now.
        AppSettings settings() const;
        /// Shows page @p page.
        void showPage(Page page);

        /// The models the last search found (empty until it ends).
        const QList<DiscoveredModel>& models() const { return m_models; }
        /// Whether models are being looked for.
        bool isScanning() const { return m_watcher != nullptr; }

    public slots:
        /// Looks for models again (a search still running is dropped).
        void rescan();
        /// Adds @p folder to the folders searched, as @p source (AddedFolder, Automatic1111 or ComfyUi), and rescans.
        /// What "Add folder…" and its siblings do once the artist picked a folder.
        void addModelFolder(const QString& folder,
                            Atelier::DiscoveredModel::Source source = DiscoveredModel::Source::AddedFolder);

        void accept() override;
        void reject() override;

    signals:
        /// Apply or OK: @p settings are to be saved and used.
        void applied(const Atelier::AppSettings& settings);
        /// A model search ended; models() has its results.
        void scanFinished();

    private:
        QWidget* makeModelsPage();
        QWidget* makeNetworksPage();
        QWidget* makeOutputPage();
        QWidget* makeDefaultsPage();
        QWidget* makeWorkersPage();
        QWidget* makeAppearancePage();
        void fill(const AppSettings& settings);
        void apply();
        void showModels(const ModelDiscoveryResult& result);
        void updateModelButtons();
        void useSelectedModel();
        void pickFolder(DiscoveredModel::Source source);
        void removeSelectedFolder();
        void updatePattern();
        void previewTheme();
        QStringList folders(DiscoveredModel::Source source) const;

        AppSettings m_initial; ///< fields the dialog does not show keep these values
        Theme m_appliedTheme; ///< what Cancel goes back to

        QTabWidget* m_pages = nullptr;
        QDialogButtonBox* m_buttons = nullptr;

        // Models
        QTableWidget* m_modelTable = nullptr;
        QLabel* m_scanStatus = nullptr;
        QTreeWidget* m_folderList = nullptr;
        QLineEdit* m_modelEdit = nullptr;
        QPushButton* m_useModelButton = nullptr;
        QPushButton* m_removeFolderButton = nullptr;
        QList<DiscoveredModel> m_models;
        QFutureWatcher<ModelDiscoveryResult>* m_watcher = nullptr;
        std::shared_ptr<std::atomic_bool> m_cancelScan;

        // LoRAs, embeddings and VAEs: the folders the artist added to each kind's usual ones
        QListWidget* m_loraFolderList = nullptr;
        QListWidget* m_embeddingFolderList = nullptr;
        QListWidget* m_vaeFolderList = nullptr;

        // Output
        QLineEdit* m_outputEdit = nullptr;
        QLineEdit* m_patternEdit = nullptr;
        QLabel* m_patternExample = nullptr;
        QLabel* m_patternError = nullptr;

        // Defaults
        QSpinBox* m_stepsSpin = nullptr;
        QDoubleSpinBox* m_cfgSpin = nullptr;
        QSpinBox* m_widthSpin = nullptr;
        QSpinBox* m_heightSpin = nullptr;
        QComboBox* m_samplerCombo = nullptr;
        QPlainTextEdit* m_negativeEdit = nullptr;
        QSpinBox* m_imagesSpin = nullptr;

        // Workers
        QSpinBox* m_batchSpin = nullptr;
        QSpinBox* m_cpuWorkersSpin = nullptr;

        // Appearance
        QComboBox* m_themeCombo = nullptr;
    };
} // namespace Atelier
