// SPDX-License-Identifier: GPL-3.0-or-later
#include "MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QStatusBar>
#include <QVBoxLayout>

#include "BuildInfo.h"
#include "import/PromptImport.h"
#include "queue/PromptQueue.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    MainWindow::MainWindow(PromptQueue* queue, QWidget* parent)
        : QMainWindow(parent)
        , m_queue(queue)
        , m_promptEdit(new QPlainTextEdit(this))
        , m_negativeEdit(new QPlainTextEdit(this))
        , m_addButton(new QPushButton(this))
        , m_removeButton(new QPushButton(this))
        , m_queueView(new QListView(this))
        , m_promptLabel(new QLabel(this))
        , m_negativeLabel(new QLabel(this))
        , m_queueLabel(new QLabel(this))
        , m_statusLabel(new QLabel(this))
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
        m_queueView->setObjectName(u"queueView"_s);
        m_statusLabel->setObjectName(u"statusLabel"_s);

        m_promptEdit->setTabChangesFocus(true);
        m_negativeEdit->setTabChangesFocus(true);
        m_negativeEdit->setMaximumHeight(m_negativeEdit->fontMetrics().lineSpacing() * 4);
        m_promptLabel->setBuddy(m_promptEdit);
        m_negativeLabel->setBuddy(m_negativeEdit);
        m_queueView->setModel(m_queue);
        m_queueView->setSelectionMode(QAbstractItemView::ExtendedSelection);
        m_queueView->setUniformItemSizes(true);

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
        queueButtons->addStretch();
        queueButtons->addWidget(m_removeButton);
        queueColumn->addLayout(queueButtons);

        auto* central = new QWidget(this);
        auto* columns = new QHBoxLayout(central);
        columns->addLayout(editorColumn, 3);
        columns->addLayout(queueColumn, 2);
        setCentralWidget(central);
        statusBar()->addWidget(m_statusLabel, 1);

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
        connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
        connect(m_importAction, &QAction::triggered, this, &MainWindow::chooseFilesToImport);
        connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
        connect(m_promptEdit, &QPlainTextEdit::textChanged, this, &MainWindow::updateActions);
        connect(m_queue, &PromptQueue::sizeChanged, this, &MainWindow::retranslate);
        connect(m_queueView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
                &MainWindow::updateActions);

        retranslate();
        resize(960, 600);
    }

    void MainWindow::addPromptFromEditor()
    {
        PromptJob job;
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
        m_queue->removeRows(rows);
    }

    qsizetype MainWindow::importFiles(const QStringList& paths)
    {
        qsizetype queued = 0;
        QStringList problems;
        for (const QString& path : paths) {
            const ImportResult result = importPromptFile(path);
            for (const PromptJob& job : result.jobs) {
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
        m_fileMenu->setTitle(tr("&File"));
        m_helpMenu->setTitle(tr("&Help"));
        m_quitAction->setText(tr("&Quit"));
        m_importAction->setText(tr("&Import prompts…"));
        m_aboutAction->setText(tr("&About Atelier"));
        m_statusLabel->setText(tr("%n prompt(s) queued", nullptr, static_cast<int>(m_queue->size())));
        updateActions();
    }

    void MainWindow::updateActions()
    {
        m_addButton->setEnabled(!m_promptEdit->toPlainText().trimmed().isEmpty());
        m_removeButton->setEnabled(m_queueView->selectionModel()->hasSelection());
    }
} // namespace Atelier
