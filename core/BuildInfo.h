// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace Atelier
{
    /// What this build of Atelier was built with, as printed by `--version` and shown in the About box.
    namespace BuildInfo
    {
        /// Atelier's own version, e.g. "0.1.0".
        QString atelierVersion();
        /// LibTorch version of the wheel the worker was built against, e.g. "2.14.1+cu130".
        QString torchVersion();
        /// CUDA toolkit version, or an empty string when built without CUDA.
        QString cudaVersion();
        /// NCCL version, or an empty string when built without NCCL.
        QString ncclVersion();

        /// The package flavour, "cpu" or "cuda"; empty for a development build.
        QString packageFlavour();
        /// Where the worker's LibTorch comes from, in words: the folder of the package's own copy (next to the
        /// program: `<bin>/../lib/atelier`), or the torch wheel a development build links.
        QString torchOrigin();

        /// The multi-line report for `--version`: the program name and Atelier's version on the first line,
        /// then the package flavour and one line per dependency (Qt, QCoro, LibTorch and its origin, CUDA, NCCL).
        QString versionReport(const QString& programName);
    } // namespace BuildInfo
} // namespace Atelier
