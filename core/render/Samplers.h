// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>
#include <QStringView>

namespace Atelier
{
    /// Atelier's canonical name for @p name: one of its own ("euler_a") or any AUTOMATIC1111 name or alias
    /// ("Euler a", "k_euler_ancestral"), compared case-insensitively after trimming; "" when unknown.
    QString samplerFromName(QStringView name);
    /// The name AUTOMATIC1111 gives canonical sampler @p sampler ("pndm" → "PLMS"), as infotexts carry it; an
    /// unknown name is returned unchanged.
    QString a1111SamplerName(QStringView sampler);
    /// Every canonical sampler name, in the order the window lists them.
    QStringList samplerNames();
    /// "unknown sampler "X" in FIELD (known: Euler a, …, or pndm, …)"
    QString unknownSamplerMessage(QStringView given, QStringView field);
} // namespace Atelier
