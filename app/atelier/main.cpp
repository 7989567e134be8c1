// SPDX-License-Identifier: GPL-3.0-or-later
// atelier: the desktop application. Without arguments it opens the main window.
#include <QApplication>
#include <QCommandLineParser>
#include <QLocale>

#include <cstdio>
#include <memory>

#include "BuildInfo.h"
#include "MainWindow.h"
#include "Translations.h"
#include "queue/PromptQueue.h"

using namespace Qt::StringLiterals;

namespace
{
    // --version and --help must work over ssh and in CI, where there is no display to open a QApplication on.
    bool needsGui(int argc, char** argv)
    {
        for (int i = 1; i < argc; ++i) {
            const QByteArrayView arg(argv[i]);
            if (arg == "--version" || arg == "-v" || arg == "--help" || arg == "-h") {
                return false;
            }
        }
        return true;
    }
} // namespace

int main(int argc, char** argv)
{
    std::unique_ptr<QCoreApplication> app = needsGui(argc, argv) ? std::make_unique<QApplication>(argc, argv)
                                                                 : std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName(u"Atelier"_s);
    QCoreApplication::setOrganizationName(u"Atelier"_s);
    QCoreApplication::setApplicationVersion(Atelier::BuildInfo::atelierVersion());

    QCommandLineParser parser;
    parser.setApplicationDescription(u"Queue Stable Diffusion prompts and render them on every GPU at once."_s);
    parser.addHelpOption();
    const QCommandLineOption versionOption({u"v"_s, u"version"_s},
                                           u"Print Atelier's version and the versions it was built with."_s);
    parser.addOption(versionOption);
    parser.addPositionalArgument(u"files"_s, u"Prompt files to queue (.txt, .csv, .json, .jsonl)."_s, u"[files...]"_s);
    parser.process(*app);

    if (parser.isSet(versionOption)) {
        std::fputs(qPrintable(Atelier::BuildInfo::versionReport(u"atelier"_s)), stdout);
        return 0;
    }

    Atelier::installTranslations(QLocale::system());
    Atelier::PromptQueue queue;
    Atelier::MainWindow window(&queue);
    window.show();
    if (!parser.positionalArguments().isEmpty()) {
        window.importFiles(parser.positionalArguments());
    }
    return app->exec();
}
