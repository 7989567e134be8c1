// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestSupport.h"

#include <QDir>
#include <QProcess>
#include <QProcessEnvironment>

#include "TestConfig.h"

using namespace Qt::StringLiterals;

namespace Atelier::Test
{
    QString dataPath(const QString& relative)
    {
        return QDir(QStringLiteral(ATELIER_TEST_DATA_DIR)).absoluteFilePath(relative);
    }

    QString fixturePath(const QString& relative)
    {
        return QDir::cleanPath(QDir(QStringLiteral(ATELIER_FIXTURES_DIR)).absoluteFilePath(relative));
    }

    QString executablePath(const QString& name)
    {
        const QString dir = QProcessEnvironment::systemEnvironment().value(u"ATELIER_BIN_DIR"_s);
        return QDir(dir).absoluteFilePath(name);
    }

    ProcessResult runProcess(const QString& program, const QStringList& arguments, int timeoutMs)
    {
        QProcess process;
        process.start(program, arguments);
        ProcessResult result;
        if (!process.waitForFinished(timeoutMs)) {
            process.kill();
            process.waitForFinished();
            result.crashed = true;
        }
        result.exitCode = process.exitCode();
        result.crashed = result.crashed || process.exitStatus() == QProcess::CrashExit;
        result.standardOutput = QString::fromUtf8(process.readAllStandardOutput());
        result.standardError = QString::fromUtf8(process.readAllStandardError());
        return result;
    }
} // namespace Atelier::Test
