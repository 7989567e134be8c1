// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-worker: the inference process, one per device. The only executable that links LibTorch.
#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

#include "BuildInfo.h"
#include "Farm.h"
#include "WorkerCommands.h"
#include "WorkerServer.h"
#include "engine/Devices.h"
#include "engine/RuntimeInfo.h"

using namespace Qt::StringLiterals;

namespace
{
    int listDevices()
    {
        for (const auto& device : Atelier::Engine::listDevices()) {
            const double gib = static_cast<double>(device.totalMemory) / (1024.0 * 1024.0 * 1024.0);
            std::printf("%-8s %-40s %8.1f GiB\n", device.spec.toString().c_str(), device.name.c_str(), gib);
        }
        return 0;
    }
} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"atelier-worker"_s);
    QCoreApplication::setApplicationVersion(Atelier::BuildInfo::atelierVersion());

    const QStringList arguments = QCoreApplication::arguments();
    if (arguments.size() > 1 && (arguments.at(1) == u"generate"_s || arguments.at(1) == u"serve"_s)) {
        // A rendering process: keep freed memory rather than page-faulting it back in every step.
        Atelier::Engine::keepFreedHostMemory();
    }
    if (arguments.size() > 1 && arguments.at(1) == u"generate"_s) {
        return Atelier::Worker::runGenerate(arguments);
    }
    if (arguments.size() > 1 && arguments.at(1) == u"serve"_s) {
        return Atelier::Worker::runServe(arguments);
    }
    if (arguments.size() > 1 && arguments.at(1) == u"farm-host"_s) {
        return Atelier::Worker::runFarmHost(arguments);
    }
    if (arguments.size() > 1 && arguments.at(1) == u"farm"_s) {
        return Atelier::Worker::runFarmNode(arguments);
    }
    if (arguments.size() > 1 && arguments.at(1) == u"tokenize"_s) {
        return Atelier::Worker::runTokenize(arguments);
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Atelier's inference worker.\n\nCommands:\n"
        u"  generate   render one image (see generate --help)\n"
        u"  serve      render the coordinator's jobs over a local socket (see serve --help)\n"
        u"  farm       render a farm run's images on this node (see farm --help, docs/FARM.md)\n"
        u"  tokenize   print the CLIP token ids of a text"_s);
    parser.addHelpOption();
    const QCommandLineOption versionOption({u"v"_s, u"version"_s},
                                           u"Print the worker's version and the versions it was built with."_s);
    const QCommandLineOption listDevicesOption(u"list-devices"_s,
                                               u"List the devices this worker can run on: name and memory."_s);
    parser.addOption(versionOption);
    parser.addOption(listDevicesOption);
    parser.process(app);

    if (parser.isSet(versionOption)) {
        QString report = Atelier::BuildInfo::versionReport(u"atelier-worker"_s);
        report += u"CUDA devices visible: %1\n"_s.arg(Atelier::Engine::cudaDeviceCount());
        std::fputs(qPrintable(report), stdout);
        return 0;
    }
    if (parser.isSet(listDevicesOption)) {
        return listDevices();
    }
    parser.showHelp(1);
}
