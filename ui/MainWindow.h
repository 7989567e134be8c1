// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QMainWindow>

#include <memory>

class QDoubleSpinBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QListWidget;
class QPlainTextEdit;
class QProcess;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QToolButton;
class QGroupBox;

namespace Atelier
{
    class Coordinator;
    class GalleryModel;
    class PromptQueue;

    /// Atelier's main window: the prompt editor, the queue, the render settings and the live gallery.
    class MainWindow final : public QMainWindow
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(MainWindow)

    public:
        /// @p workerProgram: the atelier-worker executable; empty: the one beside this program.
        explicit MainWindow(PromptQueue* queue, const QString& workerProgram = {}, QWidget* parent = nullptr);
        ~MainWindow() override;

        /// Queues the text in the prompt editor and clears it; does nothing when the editor is blank.
        void addPromptFromEditor();
        /// Removes the selected prompts from the queue.
        void removeSelected();
        /// Imports prompt files (.txt, .csv, .json, .jsonl) into the queue. Valid records are queued even when
        /// others are bad; every problem is listed, by file and line, in a non-modal "Import problems" box.
        /// Returns the number of prompts queued.
        qsizetype importFiles(const QStringList& paths);
        /// Asks for prompt files and imports them.
        void chooseFilesToImport();
        void showAbout();

        /// Starts one worker per checked device and renders the queue, taking each prompt when a worker is free;
        /// prompts queued meanwhile are rendered too. Returns false (and says why) when nothing could start.
        bool startRendering();
        /// Stops rendering: running jobs are cancelled and go back to the front of the queue.
        void stopRendering();
        bool isRendering() const;

        GalleryModel* gallery() const { return m_gallery; }

    protected:
        void changeEvent(QEvent* event) override;
        void closeEvent(QCloseEvent* event) override;
        void dragEnterEvent(QDragEnterEvent* event) override;
        void dropEvent(QDropEvent* event) override;

    private:
        void retranslate();
        void updateActions();
        void listDevices();
        void loadSettings();
        void saveSettings() const;
        void chooseModel();
        void chooseOutputFolder();
        void renderingFinished();
        void takeBackUnfinished();
        void updateDeviceStatus();
        quint64 galleryKey(qint64 jobId) const;

        PromptQueue* m_queue;
        QString m_workerProgram;
        GalleryModel* m_gallery;
        std::unique_ptr<Coordinator> m_coordinator;
        QProcess* m_deviceProbe = nullptr; ///< `atelier-worker --list-devices`, while it runs
        bool m_stopRequested = false;
        quint64 m_run = 0; ///< numbers the runs, so gallery entries of different runs never share a key
        QStringList m_runDevices;
        QHash<int, QString> m_deviceActivity; ///< rank → what it is doing
        QStringList m_runEvents; ///< what the workers of this run reported, for when the run ends on its own

        QPlainTextEdit* m_promptEdit;
        QPlainTextEdit* m_negativeEdit;
        QPushButton* m_addButton;
        QPushButton* m_removeButton;
        QPushButton* m_renderButton;
        QListView* m_queueView;
        QListView* m_galleryView;
        QLabel* m_promptLabel;
        QLabel* m_negativeLabel;
        QLabel* m_queueLabel;
        QLabel* m_galleryLabel;
        QLabel* m_statusLabel;
        QLabel* m_deviceStatus;
        QGroupBox* m_settingsBox;
        QLabel* m_stepsLabel;
        QLabel* m_cfgLabel;
        QLabel* m_sizeLabel;
        QLabel* m_samplerLabel;
        QLabel* m_devicesLabel;
        QLabel* m_modelLabel;
        QLabel* m_outputLabel;
        QSpinBox* m_stepsSpin;
        QDoubleSpinBox* m_cfgSpin;
        QSpinBox* m_widthSpin;
        QSpinBox* m_heightSpin;
        QComboBox* m_samplerCombo;
        QListWidget* m_deviceList;
        QLineEdit* m_modelEdit;
        QLineEdit* m_outputEdit;
        QToolButton* m_modelButton;
        QToolButton* m_outputButton;
        QAction* m_importAction;
        QAction* m_aboutAction;
        QAction* m_quitAction;
        QMenu* m_fileMenu;
        QMenu* m_helpMenu;
    };
} // namespace Atelier
