// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMainWindow>

class QLabel;
class QListView;
class QPlainTextEdit;
class QPushButton;

namespace Atelier
{
    class PromptQueue;

    /// Atelier's main window: the prompt editor, the queue, and (as the engine lands) the gallery.
    class MainWindow final : public QMainWindow
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(MainWindow)

    public:
        explicit MainWindow(PromptQueue* queue, QWidget* parent = nullptr);

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

    protected:
        void changeEvent(QEvent* event) override;
        void dragEnterEvent(QDragEnterEvent* event) override;
        void dropEvent(QDropEvent* event) override;

    private:
        void retranslate();
        void updateActions();

        PromptQueue* m_queue;
        QPlainTextEdit* m_promptEdit;
        QPlainTextEdit* m_negativeEdit;
        QPushButton* m_addButton;
        QPushButton* m_removeButton;
        QListView* m_queueView;
        QLabel* m_promptLabel;
        QLabel* m_negativeLabel;
        QLabel* m_queueLabel;
        QLabel* m_statusLabel;
        QAction* m_importAction;
        QAction* m_aboutAction;
        QAction* m_quitAction;
        QMenu* m_fileMenu;
        QMenu* m_helpMenu;
    };
} // namespace Atelier
