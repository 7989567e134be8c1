// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QMainWindow>

#include <memory>
#include <optional>

#include "AppSettings.h"
#include "orchestration/JobLedger.h"
#include "render/RenderSettings.h"

class QAction;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QMenu;
class QPlainTextEdit;
class QProcess;
class QPushButton;
class QSpinBox;
class QTableView;
class QTimer;
class QToolBar;
class QToolButton;
class QSystemTrayIcon;

namespace Atelier
{
    class Coordinator;
    class DeviceBoardModel;
    class GalleryPanel;
    class QueueModel;
    class ThumbnailCache;

    /// Atelier's main window: the editor (a prompt with every render setting), the queue of every item and what
    /// happens to it, the device board, and the gallery. Everything the queue holds is in its store first, so a
    /// crash of the window loses nothing.
    class MainWindow final : public QMainWindow
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(MainWindow)

    public:
        /// @p thumbnails (shared with the queue's pictures) must outlive the window. The gallery shows the image
        /// library at @p libraryPath (see defaultImageLibraryPath()). @p workerProgram: the atelier-worker
        /// executable; empty: the one beside this program.
        MainWindow(QueueModel* queue, ThumbnailCache* thumbnails, const QString& libraryPath,
                   const QString& workerProgram = {}, QWidget* parent = nullptr);
        ~MainWindow() override;

        /// The editor's items: the prompt with its settings, as many as "images per prompt" says, with seeds
        /// s, s + 1, … (s drawn now when the seed is random). Empty when the prompt is blank.
        QList<RenderSettings> itemsFromEditor() const;
        /// Queues the editor's items (at the end, or first) and clears the prompt. Returns how many were queued.
        qsizetype addFromEditor(bool atFront = false);
        /// Fills the editor with @p settings (every field; unset ones keep the editor's values).
        void fillEditor(const RenderSettings& settings);
        /// Reads generation parameters (AUTOMATIC1111's infotext, which Atelier writes too) from @p text: they fill
        /// the editor, or with @p queue go straight to the queue. @p source names where they came from in messages.
        /// False (and says why) when @p text holds none.
        bool applyParameters(const QString& text, bool queue, const QString& source);
        /// The same for the "parameters" text of the PNG at @p path.
        bool applyParametersOf(const QString& pngPath, bool queue);
        /// Loads waiting item @p itemId into the editor for changing; saveEdit() writes it back.
        bool editItem(qint64 itemId);
        /// Writes the editor into the item being edited. False (and says why) when it started meanwhile.
        bool saveEdit();
        void cancelEdit();
        /// The item being edited, if any.
        std::optional<qint64> editedItem() const { return m_editing; }

        /// The ids of the selected queue rows, in table order.
        QList<qint64> selectedItems() const;
        void removeSelected();
        void moveSelectedToTop();
        void moveSelectedToBottom();
        void duplicateSelected();
        void retrySelected();
        /// Cancels the selected items: waiting ones at once, running ones through their worker.
        void cancelSelected();
        void clearFinished();

        /// Imports prompt files (.txt, .csv, .json, .jsonl) into the queue. Valid records are queued even when
        /// others are bad; every problem is listed, by file and line, in a non-modal "Import problems" box.
        /// Settings a record leaves unset take the editor's. Returns the number of prompts queued.
        qsizetype importFiles(const QStringList& paths);
        void chooseFilesToImport();
        void showAbout();
        /// Opens the settings dialog (non-modal); what it applies is saved and used at once.
        void showSettings();
        void applySettings(const AppSettings& settings);
        /// Shows the images of @p folder in the gallery too, from now on.
        void addLibraryFolder(const QString& folder);
        const AppSettings& settings() const { return m_settings; }

        /// Starts one worker per checked device and renders the queue, taking each item when a worker is free;
        /// items queued meanwhile are rendered too. Returns false (and says why) when nothing could start.
        bool startRendering();
        /// Starts rendering once the devices are known (`atelier --render`).
        void startRenderingWhenReady();
        /// Stops rendering: running items are cancelled and wait again, first.
        void stopRendering();
        bool isRendering() const;
        /// While paused, running items finish and nothing new starts (also across Render and Stop).
        void setPaused(bool paused);
        bool isPaused() const { return m_paused; }

        QueueModel* queue() const { return m_queue; }
        DeviceBoardModel* deviceBoard() const { return m_board; }
        GalleryPanel* gallery() const { return m_gallery; }

    signals:
        /// A desktop notification was given (also shown by the system tray where there is one): the queue ran
        /// empty, or a device was disabled.
        void notified(const QString& title, const QString& message);

    protected:
        void changeEvent(QEvent* event) override;
        void closeEvent(QCloseEvent* event) override;
        void dragEnterEvent(QDragEnterEvent* event) override;
        void dropEvent(QDropEvent* event) override;

    private:
        void buildActions();
        QWidget* buildEditor();
        QWidget* buildQueue();
        QWidget* buildDevices();
        QWidget* buildGallery();
        void retranslate();
        void updateActions();
        void updateSummary();
        /// updateSummary() within 200 ms.
        void scheduleSummary();
        void listDevices();
        void loadSettings();
        /// Stores the editor's values (the defaults of what is added next) and the checked devices.
        void saveSettings();
        /// Puts @p settings' defaults, model and output folder into the editor.
        void showDefaults(const AppSettings& settings);
        void chooseModel();
        void chooseOutputFolder();
        void chooseInitImage();
        /// A file dialog titled @p title, starting at @p edit's path; the file chosen goes into @p edit.
        void chooseFileFor(QLineEdit* edit, const QString& title, const QString& filter);
        void chooseVae();
        /// Lists the VAEs of the VAE folders (and @p keep, a path the artist chose) in the VAE choice.
        void listVaes(const QString& keep = {});
        /// Enables the image-to-image and hires-fix controls that apply (the two exclude each other) and gives the
        /// denoising strength A1111's default for the kind that just came into use.
        void updateImageControls();
        void renderingFinished();
        void takeBackUnfinished();
        void deviceUseChanged(const QString& id, bool use);
        void refreshWorkerStates(int rank, const QString& note);
        /// Tells the artist, who may be in another window, through the tray (where there is one) and the task bar.
        void notify(const QString& title, const QString& message);
        /// Notifies once each time the queue runs empty during a run.
        void checkQueueRanEmpty();
        /// The editor's render settings (no prompt, no seed, no init image): the defaults for imported items.
        RenderSettings editorDefaults() const;
        /// The gallery watches the output folder and the folders the artist added to the library.
        void updateWatchedFolders();

        QueueModel* m_queue;
        QString m_workerProgram;
        AppSettings m_settings; ///< as last loaded or applied
        GalleryPanel* m_gallery;
        DeviceBoardModel* m_board;
        std::unique_ptr<Coordinator> m_coordinator;
        QProcess* m_deviceProbe = nullptr; ///< `atelier-worker --list-devices`, while it runs
        bool m_stopRequested = false;
        bool m_renderWhenListed = false; ///< startRenderingWhenReady() waits for the device probe
        bool m_paused = false;
        std::optional<qint64> m_editing;
        QStringList m_runEvents; ///< what the workers of this run reported, for when the run ends on its own
        QTimer* m_summaryTimer;
        QSystemTrayIcon* m_tray = nullptr; ///< for notifications, where the desktop has a tray
        bool m_saidEmpty = false; ///< the queue-empty notification was given since the queue last had work
        QHash<int, WorkerState> m_lastStates; ///< per rank, to notice a device becoming disabled

        // The editor.
        QLabel* m_promptLabel;
        QPlainTextEdit* m_promptEdit;
        QLabel* m_negativeLabel;
        QPlainTextEdit* m_negativeEdit;
        QGroupBox* m_settingsBox;
        QLabel* m_seedLabel;
        QLineEdit* m_seedEdit;
        QCheckBox* m_randomSeedCheck;
        QLabel* m_imagesLabel;
        QSpinBox* m_imagesSpin;
        QLabel* m_stepsLabel;
        QSpinBox* m_stepsSpin;
        QLabel* m_cfgLabel;
        QLabel* m_clipSkipLabel;
        QSpinBox* m_clipSkipSpin;
        QDoubleSpinBox* m_cfgSpin;
        QLabel* m_sizeLabel;
        QSpinBox* m_widthSpin;
        QSpinBox* m_heightSpin;
        QLabel* m_samplerLabel;
        QComboBox* m_samplerCombo;
        QLabel* m_initImageLabel;
        QLineEdit* m_initImageEdit;
        QToolButton* m_initImageButton;
        QLabel* m_strengthLabel;
        QDoubleSpinBox* m_strengthSpin;
        QCheckBox* m_hiresCheck;
        QDoubleSpinBox* m_hiresScaleSpin;
        QComboBox* m_hiresUpscalerCombo;
        QSpinBox* m_hiresStepsSpin;
        QLabel* m_vaeLabel;
        QComboBox* m_vaeCombo;
        QToolButton* m_vaeButton;
        /// Which kind last set the denoising strength's default: 0 none, 1 image to image, 2 hires fix.
        int m_strengthKind = 0;
        QGroupBox* m_runBox;
        QLabel* m_modelLabel;
        QLineEdit* m_modelEdit;
        QToolButton* m_modelButton;
        QLabel* m_outputLabel;
        QLineEdit* m_outputEdit;
        QToolButton* m_outputButton;
        QLabel* m_editingLabel;
        QPushButton* m_addButton;
        QPushButton* m_addFirstButton;
        QPushButton* m_saveEditButton;
        QPushButton* m_cancelEditButton;

        // The queue, the devices, the gallery.
        QLabel* m_queueLabel;
        QToolBar* m_queueBar;
        QTableView* m_queueView;
        QPushButton* m_renderButton;
        QLabel* m_devicesLabel;
        QTableView* m_deviceView;
        QLabel* m_statusLabel;
        QLabel* m_summaryLabel;

        QAction* m_renderAction;
        QAction* m_pauseAction;
        QAction* m_editAction;
        QAction* m_duplicateAction;
        QAction* m_moveTopAction;
        QAction* m_moveBottomAction;
        QAction* m_retryAction;
        QAction* m_cancelAction;
        QAction* m_removeAction;
        QAction* m_clearFinishedAction;
        QAction* m_addAction;
        QAction* m_addFirstAction;
        QAction* m_importAction;
        QAction* m_pasteParametersAction;
        QAction* m_aboutAction;
        QAction* m_settingsAction;
        QAction* m_addLibraryFolderAction;
        QAction* m_quitAction;
        QMenu* m_fileMenu;
        QMenu* m_queueMenu;
        QMenu* m_galleryMenu;
        QMenu* m_helpMenu;
    };
} // namespace Atelier
