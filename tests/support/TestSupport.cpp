// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>

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
        // A checkout without shared/ beside it can point at the fixtures elsewhere.
        const QString configured = qEnvironmentVariable("ATELIER_FIXTURES_DIR", QStringLiteral(ATELIER_FIXTURES_DIR));
        const QString path = QDir::cleanPath(QDir(configured).absoluteFilePath(relative));
        if (!QFileInfo::exists(path)) {
            qWarning("fixture %s not found: the parity fixtures live in shared/fixtures beside the checkout, "
                     "or wherever ATELIER_FIXTURES_DIR points",
                     qPrintable(path));
        }
        return path;
    }

    QString sourcePath(const QString& relative)
    {
        return QDir(QStringLiteral(ATELIER_SOURCE_DIR)).absoluteFilePath(relative);
    }

    QJsonObject goldenIndex(const QString& fixture)
    {
        QFile file(fixturePath(fixture + u"/goldens/index.json"_s));
        if (!file.open(QIODevice::ReadOnly)) {
            qWarning("cannot read %s", qPrintable(file.fileName()));
            return {};
        }
        QString text = QString::fromUtf8(file.readAll());
        // Only bare tokens in value position are rewritten, never text inside strings.
        static const QRegularExpression nonFinite(u"(?<=[:\\[,])(\\s*)(-?Infinity|NaN)(?=\\s*[,\\]}])"_s);
        QString rewritten;
        qsizetype last = 0;
        for (auto it = nonFinite.globalMatch(text); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            const QString token = m.captured(2);
            rewritten += QStringView(text).sliced(last, m.capturedStart(2) - last);
            rewritten += token == u"NaN"_s ? u"null"_s
                : token.startsWith(u'-')   ? u"-1.7976931348623157e308"_s
                                           : u"1.7976931348623157e308"_s;
            last = m.capturedEnd(2);
        }
        rewritten += QStringView(text).sliced(last);
        text = rewritten;
        QJsonParseError error{};
        const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &error);
        if (error.error != QJsonParseError::NoError) {
            qWarning("%s: %s", qPrintable(file.fileName()), qPrintable(error.errorString()));
        }
        return doc.object();
    }

    QString executablePath(const QString& name)
    {
        // CTest sets ATELIER_BIN_DIR; run by hand, a test uses the build tree it was built in.
        const QString dir = qEnvironmentVariable("ATELIER_BIN_DIR", QStringLiteral(ATELIER_BUILD_BIN_DIR));
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

    bool runSql(const QString& path, const QString& sql)
    {
        bool ok = false;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"raw"_s);
            db.setDatabaseName(path);
            ok = db.open() && QSqlQuery(db).exec(sql);
            db.close();
        }
        QSqlDatabase::removeDatabase(u"raw"_s);
        return ok;
    }

    QList<qint64> childrenOf(qint64 pid)
    {
        QFile file(QStringLiteral("/proc/%1/task/%1/children").arg(pid));
        QList<qint64> pids;
        if (file.open(QIODevice::ReadOnly)) {
            for (const QByteArray& field : file.readAll().split(' ')) {
                if (const qint64 child = field.trimmed().toLongLong(); child > 0) {
                    pids.append(child);
                }
            }
        }
        return pids;
    }

    bool isRunning(qint64 pid)
    {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        return stat.open(QIODevice::ReadOnly) && !stat.readAll().contains(") Z ");
    }
} // namespace Atelier::Test
