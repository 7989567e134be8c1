// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

#include "render/RenderSettings.h"

class QTimer;

namespace Atelier
{
    class PromptQueue;

    /// @p jobs as a JSON Lines prompt file, one object per job with the fields importPromptFile() reads (prompt,
    /// negative_prompt, seed, steps, cfg_scale, width, height, sampler_name); unset fields are left out. Seeds are
    /// written as exact integers, up to 2^64 − 1.
    QByteArray toPromptFile(const QList<RenderSettings>& jobs);

    /// Writes toPromptFile(@p jobs) to @p path atomically (a crash leaves the old file or the new one, never half
    /// of one). Returns an empty string, or why it could not.
    QString savePromptFile(const QList<RenderSettings>& jobs, const QString& path);

    /// Keeps a copy of the queue on disk, so that quitting (or a crash of the window) loses no queued prompt: every
    /// change is written shortly after it happens, and once more when the autosave is destroyed. The file is an
    /// ordinary .jsonl prompt file; restore it with importPromptFile().
    class QueueAutosave final : public QObject
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(QueueAutosave)

    public:
        QueueAutosave(PromptQueue* queue, QString path, QObject* parent = nullptr);
        ~QueueAutosave() override;

        /// Writes the queue now; returns an empty string or why it could not.
        QString saveNow();
        const QString& path() const { return m_path; }

    signals:
        /// Writing failed (once per failure streak, so a full disk does not flood the user).
        void saveFailed(const QString& reason);

    private:
        PromptQueue* m_queue;
        QString m_path;
        QTimer* m_timer;
        bool m_failing = false;
    };
} // namespace Atelier
