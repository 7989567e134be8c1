// SPDX-License-Identifier: GPL-3.0-or-later
#include "OutputNaming.h"

#include <QDir>
#include <QRegularExpression>

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
} // namespace Atelier
