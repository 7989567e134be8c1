// SPDX-License-Identifier: GPL-3.0-or-later
#include "SqliteDatabase.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>

using namespace Qt::StringLiterals;

namespace Atelier
{
    QString openSqliteDatabase(const QString& connection, const QString& path)
    {
        if (path != u":memory:"_s) {
            const QFileInfo info(path);
            if (!QDir().mkpath(info.absolutePath())) {
                return u"cannot create its folder"_s;
            }
            if (info.exists() && !info.isFile()) {
                return u"not a regular file"_s;
            }
        }
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, connection);
        db.setDatabaseName(path);
        // Writers (a claim, a scan on another thread) hold the lock briefly; the others wait rather than fail.
        db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=10000"_s);
        if (!db.open()) {
            return db.lastError().text();
        }
        return {};
    }

    QString uniqueSqliteConnectionName(const QString& prefix)
    {
        static QAtomicInteger<quint64> counter;
        return u"%1-%2"_s.arg(prefix).arg(counter.fetchAndAddRelaxed(1));
    }

    void closeSqliteDatabase(const QString& connection)
    {
        if (QSqlDatabase::contains(connection)) {
            QSqlDatabase::database(connection, false).close();
            QSqlDatabase::removeDatabase(connection);
        }
    }
} // namespace Atelier
