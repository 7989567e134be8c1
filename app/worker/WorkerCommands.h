// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

namespace Atelier::Worker
{
    /// `atelier-worker generate …`: renders one image to a PNG. @p arguments starts with the program name.
    /// Returns the process exit code: 0 on success, 1 when generation failed, 2 for bad arguments.
    int runGenerate(const QStringList& arguments);
    /// `atelier-worker tokenize TEXT`: prints the 77 token ids the text encoder would get, as a JSON array.
    int runTokenize(const QStringList& arguments);
    /// The precision a worker on @p device computes in for `--dtype` @p requested ("auto", "fp32", "fp16",
    /// "bf16"; see render/Precision.h): "fp32", "fp16" or "bf16", or an empty string with @p error set.
    QString resolvedPrecisionName(const QString& requested, const QString& device, QString* error);
    /// Where Atelier's data (the embedded model, the CLIP vocabulary) lives: <bin>/../share/atelier.
    QString dataDirectory();
} // namespace Atelier::Worker
