// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include "render/RenderSettings.h"

namespace Atelier
{
    /// @p jobs as a JSON Lines prompt file, one object per job with the fields importPromptFile() reads (prompt,
    /// negative_prompt, seed, steps, cfg_scale, width, height, sampler_name); unset fields are left out. Seeds are
    /// written as exact integers, up to 2^64 − 1.
    QByteArray toPromptFile(const QList<RenderSettings>& jobs);

    /// Writes toPromptFile(@p jobs) to @p path atomically (a crash leaves the old file or the new one, never half of
    /// one): the queue's export format. Returns an empty string, or why it could not.
    QString savePromptFile(const QList<RenderSettings>& jobs, const QString& path);
} // namespace Atelier
