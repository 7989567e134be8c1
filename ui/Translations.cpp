// SPDX-License-Identifier: GPL-3.0-or-later
#include "Translations.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QTranslator>

using namespace Qt::StringLiterals;

namespace Atelier
{
    bool installTranslations(const QLocale& locale)
    {
        // Owned by the application so they live as long as it does and are replaced on the next call.
        static QTranslator* atelierTranslator = nullptr;
        static QTranslator* qtTranslator = nullptr;
        for (QTranslator** slot : {&atelierTranslator, &qtTranslator}) {
            if (*slot) {
                QCoreApplication::removeTranslator(*slot);
                delete *slot;
                *slot = nullptr;
            }
        }

        qtTranslator = new QTranslator(QCoreApplication::instance());
        if (qtTranslator->load(locale, u"qtbase"_s, u"_"_s, QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
            QCoreApplication::installTranslator(qtTranslator);
        }
        // qt_add_translations embeds the compiled catalogues under :/i18n. English is the fallback: the source
        // strings are English, but only the English catalogue knows their plural forms ("1 prompt queued").
        atelierTranslator = new QTranslator(QCoreApplication::instance());
        const bool found = atelierTranslator->load(locale, u"atelier"_s, u"_"_s, u":/i18n"_s);
        if (found || atelierTranslator->load(u"atelier_en"_s, u":/i18n"_s)) {
            QCoreApplication::installTranslator(atelierTranslator);
        }
        return found;
    }
} // namespace Atelier
