// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringView>

#include <optional>

namespace Atelier
{
    /// The precision a run asks for. Auto is resolved per device: fp16 on CUDA, fp32 on the CPU.
    enum class Precision
    {
        Auto,
        Fp32,
        Fp16,
        Bf16
    };

    /// "auto", "fp32", "fp16", "bf16" (case-insensitive); nullopt for anything else.
    std::optional<Precision> parsePrecision(QStringView name);
    QString precisionName(Precision precision);
    /// The precision a worker on @p device ("cpu", "cuda:1") computes in: never Auto. fp16 and bf16 on the CPU are
    /// an error (the CPU computes fp32 only): nullopt, with @p error naming the device.
    std::optional<Precision> resolvePrecision(Precision requested, QStringView device, QString* error);
} // namespace Atelier
