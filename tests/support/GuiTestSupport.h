// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QSize>
#include <QString>

#include <optional>

#include "render/RenderSettings.h"

namespace Atelier::Test
{
    /// Writes a PNG at @p path as Atelier's worker does: an AUTOMATIC1111 infotext ("parameters") and an `atelier`
    /// provenance chunk (device cuda:1, fp16, queue item @p queueItemId), for @p rendered; without them when it is
    /// nullopt (another tool's image). Returns whether it was written.
    bool writeRenderedPng(const QString& path, const std::optional<RenderSettings>& rendered,
                          const QString& model = QStringLiteral("sd15"), qint64 queueItemId = 7, QSize size = {16, 16});
} // namespace Atelier::Test
