// SPDX-License-Identifier: GPL-3.0-or-later
// The workers' process group within one process; TestCoordinator forms real groups across worker processes.
#include <QTemporaryDir>
#include <QTest>

#include "engine/EngineError.h"
#include "engine/ProcessGroup.h"

using namespace Atelier::Engine;
using namespace std::chrono_literals;

class TestProcessGroup final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aGroupOfOneKnowsItself();
    void ncclIsRefusedForACpuWorker();
};

void TestProcessGroup::aGroupOfOneKnowsItself()
{
    const auto backends = availableBackends();
    if (std::find(backends.begin(), backends.end(), "gloo") == backends.end()) {
        QSKIP("this build has no Gloo (libgloo-dev missing)");
    }
    QTemporaryDir dir;
    const DeviceInfo self{DeviceSpec{DeviceSpec::Kind::Cpu, 0}, "Test CPU, 4 cores", 8ULL << 30, 0, 0};
    const ProcessGroupResult group
        = joinProcessGroup(dir.filePath(QStringLiteral("store")).toStdString(), 0, 1, self, false, 30s);
    QCOMPARE(group.backend, std::string("gloo"));
    QCOMPARE(group.peers.size(), std::size_t{1});
    QCOMPARE(group.peers[0].rank, 0);
    QCOMPARE(group.peers[0].device, std::string("cpu"));
    // The name survives the trip through the fixed-size record, commas and all.
    QCOMPARE(group.peers[0].deviceName, std::string("Test CPU, 4 cores"));
    QCOMPARE(group.peers[0].memory, 8ULL << 30);
}

void TestProcessGroup::ncclIsRefusedForACpuWorker()
{
    QTemporaryDir dir;
    const DeviceInfo self{DeviceSpec{DeviceSpec::Kind::Cpu, 0}, "cpu", 0, 0, 0};
    // Whether or not this build has NCCL, a CPU worker never joins an NCCL group: it would hang its peers.
    QVERIFY_THROWS_EXCEPTION(
        EngineError, joinProcessGroup(dir.filePath(QStringLiteral("store")).toStdString(), 0, 1, self, true, 5s));
}

QTEST_GUILESS_MAIN(TestProcessGroup)
#include "TestProcessGroup.moc"
