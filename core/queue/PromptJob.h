// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMetaType>
#include <QString>

#include <optional>

namespace Atelier
{
    /// One image request as the artist queued it. Unset optional fields take the run's defaults.
    struct PromptJob
    {
        QString prompt;
        QString negativePrompt;
        std::optional<quint64> seed;
        std::optional<int> steps;
        std::optional<double> cfgScale;
        std::optional<int> width;
        std::optional<int> height;
        std::optional<QString> scheduler;

        friend bool operator==(const PromptJob&, const PromptJob&) = default;
    };
} // namespace Atelier

Q_DECLARE_METATYPE(Atelier::PromptJob)
