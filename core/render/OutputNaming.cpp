// SPDX-License-Identifier: GPL-3.0-or-later
#include "OutputNaming.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <csignal>

#include <algorithm>
#include <limits>

using namespace Qt::StringLiterals;

namespace Atelier
{
    QString imageFileName(qint64 number, quint64 seed, const QString& prompt)
    {
        static const QRegularExpression marks(u"\\p{Mn}+"_s);
        static const QRegularExpression notWord(u"[^a-z0-9]+"_s);
        // Decompose, then drop the accents, so "Café" names a file "cafe" rather than "caf".
        QString slug = prompt.toLower().normalized(QString::NormalizationForm_KD);
        slug.remove(marks);
        slug.replace(notWord, u"-"_s);
        slug = slug.left(48);
        while (slug.endsWith(u'-')) {
            slug.chop(1);
        }
        while (slug.startsWith(u'-')) {
            slug.remove(0, 1);
        }
        if (slug.isEmpty()) {
            slug = u"image"_s;
        }
        // Zero-padded as A1111 pads, so a file manager sorting by name shows the images in the order they were made.
        return u"%1-%2-%3.png"_s.arg(number, 5, 10, QLatin1Char('0')).arg(seed).arg(slug);
    }

    qint64 nextImageNumber(const QString& directory)
    {
        qint64 next = 0;
        const QDir dir(directory);
        if (directory.isEmpty() || !dir.exists()) {
            return next;
        }
        const QStringList names = dir.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
        for (const QString& name : names) {
            qsizetype digits = 0;
            while (digits < name.size() && name.at(digits) >= u'0' && name.at(digits) <= u'9') {
                ++digits;
            }
            if (digits == 0 || digits >= name.size() || name.at(digits) != u'-') {
                continue;
            }
            bool ok = false;
            const qint64 number = QStringView(name).left(digits).toLongLong(&ok);
            // A number too large to follow cannot collide with the smaller ones given out instead, so skipping it
            // still never replaces a file.
            if (!ok || number == std::numeric_limits<qint64>::max()) {
                continue;
            }
            next = std::max(next, number + 1);
        }
        return next;
    }

    bool isCompleteImage(const QString& path)
    {
        const QFileInfo info(path);
        if (info.isSymLink() || !info.isFile() || info.size() < 8 + 12) {
            return false;
        }
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly) || file.read(8) != QByteArray::fromHex("89504e470d0a1a0a")
            || !file.seek(file.size() - 12)) {
            return false;
        }
        return file.read(12) == QByteArray::fromHex("0000000049454e44ae426082");
    }

    QString temporaryImageTemplate(const QString& path)
    {
        const QFileInfo target(path);
        return QDir(target.absolutePath())
            .filePath(u".%1.%2.XXXXXX.part"_s.arg(target.fileName()).arg(QCoreApplication::applicationPid()));
    }

    int removeStaleTemporaryImages(const QString& directory)
    {
        static const QRegularExpression temporary(u"^\\..+\\.png\\.(\\d+)\\.[A-Za-z0-9]{6}\\.part$"_s);
        int removed = 0;
        QDir dir(directory);
        for (const QString& name : dir.entryList({u".*.part"_s}, QDir::Files | QDir::Hidden | QDir::System)) {
            const QRegularExpressionMatch match = temporary.match(name);
            if (!match.hasMatch()) {
                continue;
            }
            const qint64 pid = match.captured(1).toLongLong();
            // kill(pid, 0) fails with ESRCH only when no such process exists: the writer is gone for good.
            if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH && dir.remove(name)) {
                ++removed;
            }
        }
        return removed;
    }
} // namespace Atelier
