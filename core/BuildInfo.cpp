// SPDX-License-Identifier: GPL-3.0-or-later
#include "BuildInfo.h"

#include <QCoreApplication>
#include <QDir>
#include <QtGlobal>

#include "BuildConfig.h"

using namespace Qt::StringLiterals;

namespace Atelier::BuildInfo
{
    QString atelierVersion()
    {
        return QStringLiteral(ATELIER_VERSION);
    }

    QString torchVersion()
    {
        return QStringLiteral(ATELIER_TORCH_VERSION);
    }

    QString cudaVersion()
    {
        return ATELIER_HAVE_CUDA ? QStringLiteral(ATELIER_CUDA_VERSION) : QString();
    }

    QString ncclVersion()
    {
        return ATELIER_HAVE_NCCL ? QStringLiteral(ATELIER_NCCL_VERSION) : QString();
    }

    QString packageFlavour()
    {
        return QStringLiteral(ATELIER_PACKAGE_FLAVOUR);
    }

    QString torchOrigin()
    {
        if (packageFlavour().isEmpty()) {
            return u"the torch wheel in %1 (a development build)"_s.arg(QStringLiteral(ATELIER_TORCH_ROOT));
        }
        // Where this very program's package keeps it, wherever the package was installed or unpacked.
        const QString bin = QCoreApplication::instance() ? QCoreApplication::applicationDirPath() : QString();
        const QString folder = bin.isEmpty() ? u"lib/atelier"_s : QDir::cleanPath(bin + u"/../lib/atelier"_s);
        return u"the torch %1 wheel from PyPI, bundled in %2"_s.arg(torchVersion(), folder);
    }

    QString versionReport(const QString& programName)
    {
        QString report = u"%1 %2\n"_s.arg(programName, atelierVersion());
        report += packageFlavour().isEmpty() ? u"Build: development\n"_s
                                             : u"Package: %1 flavour\n"_s.arg(packageFlavour());
        // Built-against and running Qt can differ when a distribution updates Qt; say both when they do.
        const QString qtRuntime = QString::fromLatin1(qVersion());
        if (qtRuntime == QLatin1StringView(QT_VERSION_STR)) {
            report += u"Qt %1\n"_s.arg(qtRuntime);
        } else {
            report += u"Qt %1 (built with %2)\n"_s.arg(qtRuntime, QLatin1StringView(QT_VERSION_STR));
        }
        report += u"QCoro %1\n"_s.arg(QStringLiteral(ATELIER_QCORO_VERSION));
        report += u"LibTorch %1, from %2\n"_s.arg(torchVersion(), torchOrigin());
        if (cudaVersion().isEmpty()) {
            report += u"CUDA: not built with CUDA\n"_s;
        } else {
            report += u"CUDA %1\n"_s.arg(cudaVersion());
        }
        if (ncclVersion().isEmpty()) {
            report += u"NCCL: not built with NCCL\n"_s;
        } else {
            report += u"NCCL %1\n"_s.arg(ncclVersion());
        }
        return report;
    }
} // namespace Atelier::BuildInfo
