// SPDX-License-Identifier: GPL-3.0-or-later
// The render farm's leases on an in-process c10d store (HashStore, the same Store interface as the farm's TCPStore),
// driven by a clock of the test's own: no process, no socket, no sleep.
#include <QRandomGenerator>
#include <QTest>

#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include <map>
#include <numeric>
#include <random>

#include "engine/FarmLeases.h"

using namespace Atelier::Farm;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace
{
    constexpr auto Timeout = 1000ms;

    /// A keeper and its store, with a clock that moves only when told.
    struct Farm
    {
        c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::HashStore>();
        FarmKeys keys{"run1"};
        TimePoint now = TimePoint{} + 1h;
        LeaseKeeper keeper{store, keys, {Timeout, 3}, [](const std::string& worker, const std::string& proof) {
                               return proof == "ok-" + worker;
                           }};

        /// A worker that has been let in.
        FarmWorkerLease admittedWorker(const std::string& name)
        {
            FarmWorkerLease worker(store, keys, name);
            worker.requestJoin("ok-" + name);
            keeper.poll(now);
            return worker;
        }
        std::vector<LeaseChange> advance(std::chrono::milliseconds by)
        {
            now += by;
            return keeper.poll(now);
        }
        Lease lease(std::int64_t item) { return *Lease::decode(store->get(keys.lease(item))); }
    };

    const auto nothingCommitted = [](std::int64_t) { return false; };

    bool has(const std::vector<LeaseChange>& changes, LeaseChange::Kind kind, std::int64_t item)
    {
        return std::any_of(changes.begin(), changes.end(),
                           [&](const LeaseChange& c) { return c.kind == kind && c.item == item; });
    }
} // namespace

class TestFarmLeases final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void leasesRoundTrip_data();
    void leasesRoundTrip();
    void foreignValuesAreNotLeases_data();
    void foreignValuesAreNotLeases();
    void workersClaimInOrderAndCommit();
    void onlyWorkersWithTheTokenAreAdmitted();
    void aClaimByAWorkerNeverAdmittedIsRevoked();
    void aRenewedLeaseNeverExpires();
    void aSilentWorkersLeaseExpiresAndTheItemIsOfferedAgain();
    void aWorkerThatStalledPastItsLeaseCannotCommit();
    void aReleasedItemIsRetriedUntilItsAttemptsAreUsed();
    void anExpiredLeaseCountsAsAnAttempt();
    void anImageAlreadyInTheFolderIsNotRenderedAgain();
    void anOfferTakenByAWorkerThatVanishedIsOfferedAgain();
    void aRestartedCoordinatorOffersOnlyWhatIsMissing();
    void eventsArriveInOrder();
    void randomFaultsNeverCommitTwiceNorLoseAnItem();
};

void TestFarmLeases::leasesRoundTrip_data()
{
    QTest::addColumn<int>("state");
    QTest::addColumn<QString>("worker");
    QTest::addColumn<qint64>("beat");
    QTest::addColumn<QString>("encoded");
    QTest::newRow("free") << int(Lease::State::Free) << QString() << qint64(0) << u"free"_s;
    QTest::newRow("held") << int(Lease::State::Held) << u"node1-42-ab"_s << qint64(17) << u"held node1-42-ab 17"_s;
    QTest::newRow("released") << int(Lease::State::Released) << u"w"_s << qint64(0) << u"released w"_s;
    QTest::newRow("done") << int(Lease::State::Done) << u"-"_s << qint64(0) << u"done -"_s;
    QTest::newRow("failed") << int(Lease::State::Failed) << QString() << qint64(0) << u"failed"_s;
}

void TestFarmLeases::leasesRoundTrip()
{
    QFETCH(int, state);
    QFETCH(QString, worker);
    QFETCH(qint64, beat);
    QFETCH(QString, encoded);
    const Lease lease{Lease::State(state), worker.toStdString(), beat};
    QCOMPARE(QString::fromStdString(lease.encode()), encoded);
    const std::string text = encoded.toStdString();
    const std::optional<Lease> decoded = Lease::decode({text.begin(), text.end()});
    QVERIFY(decoded.has_value());
    QVERIFY(*decoded == lease);
}

void TestFarmLeases::foreignValuesAreNotLeases_data()
{
    QTest::addColumn<QString>("value");
    QTest::newRow("empty") << QString();
    QTest::newRow("unknown state") << u"taken w 1"_s;
    QTest::newRow("held without beat") << u"held w"_s;
    QTest::newRow("beat not a number") << u"held w x1"_s;
    QTest::newRow("free with a worker") << u"free w"_s;
    QTest::newRow("done without worker") << u"done"_s;
    QTest::newRow("trailing space") << u"failed "_s;
    QTest::newRow("two spaces") << u"held  w 1"_s;
}

void TestFarmLeases::foreignValuesAreNotLeases()
{
    QFETCH(QString, value);
    const std::string text = value.toStdString();
    QVERIFY(!Lease::decode({text.begin(), text.end()}).has_value());
}

void TestFarmLeases::workersClaimInOrderAndCommit()
{
    Farm farm;
    farm.keeper.publish({0, 1, 2}, farm.now);
    FarmWorkerLease a = farm.admittedWorker("a");
    FarmWorkerLease b = farm.admittedWorker("b");
    QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(0));
    QCOMPARE(b.claim(nothingCommitted), std::optional<std::int64_t>(1));
    QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(2));
    QCOMPARE(b.claim(nothingCommitted), std::nullopt);
    QCOMPARE(farm.lease(1), (Lease{Lease::State::Held, "b", 0}));
    QVERIFY(b.renew(1));
    QVERIFY(b.holds(1));
    QCOMPARE(farm.lease(1), (Lease{Lease::State::Held, "b", 1}));
    b.complete(1);
    a.complete(0);
    const std::vector<LeaseChange> changes = farm.advance(10ms);
    QVERIFY(has(changes, LeaseChange::Kind::Committed, 0));
    QVERIFY(has(changes, LeaseChange::Kind::Committed, 1));
    QCOMPARE(farm.keeper.outstanding(), std::size_t{1});
    a.complete(2);
    farm.advance(10ms);
    QCOMPARE(farm.keeper.outstanding(), std::size_t{0});
    QVERIFY(!a.stopRequested());
    farm.keeper.requestStop();
    QVERIFY(a.stopRequested());
}

void TestFarmLeases::onlyWorkersWithTheTokenAreAdmitted()
{
    Farm farm;
    FarmWorkerLease good(farm.store, farm.keys, "good");
    FarmWorkerLease bad(farm.store, farm.keys, "bad");
    QCOMPARE(good.admission(), std::string());
    good.requestJoin("ok-good");
    bad.requestJoin("ok-good"); // another worker's proof proves nothing
    const std::vector<LeaseChange> changes = farm.keeper.poll(farm.now);
    QCOMPARE(changes.size(), std::size_t{2});
    QCOMPARE(changes[0].kind, LeaseChange::Kind::Admitted);
    QCOMPARE(changes[1].kind, LeaseChange::Kind::Refused);
    QCOMPARE(good.admission(), std::string("yes"));
    QCOMPARE(bad.admission(), std::string("no"));
    QCOMPARE(farm.keeper.admittedWorkers(), (std::set<std::string>{"good"}));
}

void TestFarmLeases::aClaimByAWorkerNeverAdmittedIsRevoked()
{
    Farm farm;
    farm.keeper.publish({0}, farm.now);
    FarmWorkerLease intruder(farm.store, farm.keys, "intruder");
    QCOMPARE(intruder.claim(nothingCommitted), std::optional<std::int64_t>(0));
    QVERIFY(has(farm.advance(1ms), LeaseChange::Kind::Revoked, 0));
    QVERIFY(!intruder.renew(0));
    FarmWorkerLease a = farm.admittedWorker("a");
    QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(0));
}

void TestFarmLeases::aRenewedLeaseNeverExpires()
{
    Farm farm;
    farm.keeper.publish({0}, farm.now);
    FarmWorkerLease a = farm.admittedWorker("a");
    QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(0));
    for (int beat = 0; beat < 20; ++beat) {
        QVERIFY(farm.advance(Timeout - 1ms).empty());
        QVERIFY(a.renew(0));
    }
    QVERIFY(a.holds(0));
}

void TestFarmLeases::aSilentWorkersLeaseExpiresAndTheItemIsOfferedAgain()
{
    Farm farm;
    farm.keeper.publish({0}, farm.now);
    FarmWorkerLease a = farm.admittedWorker("a");
    FarmWorkerLease b = farm.admittedWorker("b");
    QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(0));
    // Leases are timed on the coordinator's clock alone: from when it first sees a value until it sees it change.
    QVERIFY(farm.advance(1ms).empty());
    QVERIFY(farm.advance(Timeout - 1ms).empty());
    QCOMPARE(b.claim(nothingCommitted), std::nullopt);
    const std::vector<LeaseChange> changes = farm.advance(1ms);
    QCOMPARE(changes.size(), std::size_t{1});
    QCOMPARE(changes[0].kind, LeaseChange::Kind::Expired);
    QCOMPARE(changes[0].worker, std::string("a"));
    QVERIFY(!changes[0].final);
    QCOMPARE(b.claim(nothingCommitted), std::optional<std::int64_t>(0));
}

void TestFarmLeases::aWorkerThatStalledPastItsLeaseCannotCommit()
{
    // The lease logic's part of "exactly one image": a stalled worker learns it lost the item before it commits;
    // the folder's first-writer-wins link (TestFarmFolder) covers the instant between its check and its link.
    Farm farm;
    farm.keeper.publish({0}, farm.now);
    FarmWorkerLease slow = farm.admittedWorker("slow");
    FarmWorkerLease quick = farm.admittedWorker("quick");
    QCOMPARE(slow.claim(nothingCommitted), std::optional<std::int64_t>(0));
    QVERIFY(slow.renew(0));
    farm.advance(1ms);
    farm.advance(Timeout); // slow stalls (a swapping node, a paused process)
    QCOMPARE(quick.claim(nothingCommitted), std::optional<std::int64_t>(0));
    QVERIFY(quick.renew(0));
    // slow wakes up and reaches its commit gate: the lease is no longer its own.
    QVERIFY(!slow.holds(0));
    QVERIFY(!slow.renew(0));
    QVERIFY(quick.holds(0));
    quick.complete(0);
    const std::vector<LeaseChange> changes = farm.advance(1ms);
    QVERIFY(has(changes, LeaseChange::Kind::Committed, 0));
    QCOMPARE(farm.lease(0), (Lease{Lease::State::Done, "quick", 0}));
    // A late give-back by the stalled worker changes nothing.
    slow.release(0);
    QCOMPARE(farm.lease(0), (Lease{Lease::State::Done, "quick", 0}));
}

void TestFarmLeases::aReleasedItemIsRetriedUntilItsAttemptsAreUsed()
{
    Farm farm;
    farm.keeper.publish({0}, farm.now);
    FarmWorkerLease a = farm.admittedWorker("a");
    for (int attempt = 1; attempt <= 3; ++attempt) {
        QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(0));
        a.release(0);
        const std::vector<LeaseChange> changes = farm.advance(1ms);
        QCOMPARE(changes.size(), std::size_t{1});
        QCOMPARE(changes[0].kind, LeaseChange::Kind::Released);
        QCOMPARE(changes[0].final, attempt == 3);
    }
    QCOMPARE(farm.lease(0).state, Lease::State::Failed);
    QCOMPARE(farm.keeper.outstanding(), std::size_t{0});
    QCOMPARE(a.claim(nothingCommitted), std::nullopt);
}

void TestFarmLeases::anExpiredLeaseCountsAsAnAttempt()
{
    // A prompt that kills every worker that takes it must not take the farm down one node at a time.
    Farm farm;
    farm.keeper.publish({0}, farm.now);
    for (int attempt = 1; attempt <= 3; ++attempt) {
        FarmWorkerLease w = farm.admittedWorker("w" + std::to_string(attempt));
        QCOMPARE(w.claim(nothingCommitted), std::optional<std::int64_t>(0));
        farm.advance(1ms);
        const std::vector<LeaseChange> changes = farm.advance(Timeout);
        QVERIFY(has(changes, LeaseChange::Kind::Expired, 0));
        QCOMPARE(changes.back().final, attempt == 3);
    }
    QCOMPARE(farm.lease(0).state, Lease::State::Failed);
}

void TestFarmLeases::anImageAlreadyInTheFolderIsNotRenderedAgain()
{
    Farm farm;
    farm.keeper.publish({0, 1}, farm.now);
    FarmWorkerLease a = farm.admittedWorker("a");
    // Item 0's image was committed by a worker that died before it could say so.
    QCOMPARE(a.claim([](std::int64_t item) { return item == 0; }), std::optional<std::int64_t>(1));
    QCOMPARE(farm.lease(0), (Lease{Lease::State::Done, "-", 0}));
    QVERIFY(has(farm.advance(1ms), LeaseChange::Kind::Committed, 0));
}

void TestFarmLeases::anOfferTakenByAWorkerThatVanishedIsOfferedAgain()
{
    Farm farm;
    farm.keeper.publish({0, 1}, farm.now);
    // A worker pops item 0's offer and dies before its compareSet.
    farm.store->queuePop(farm.keys.offers(), false);
    farm.advance(1ms);
    QVERIFY(farm.advance(Timeout - 1ms).empty());
    QVERIFY(has(farm.advance(1ms), LeaseChange::Kind::Reoffered, 0));
    FarmWorkerLease a = farm.admittedWorker("a");
    QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(1));
    QCOMPARE(a.claim(nothingCommitted), std::optional<std::int64_t>(0));
}

void TestFarmLeases::aRestartedCoordinatorOffersOnlyWhatIsMissing()
{
    // The store dies with its coordinator; the new one starts from the folder: items 0 and 2 were committed. A
    // worker that was rendering item 1 through the restart adopts it again in the new store.
    Farm restarted;
    restarted.keeper.publish({1, 3}, restarted.now);
    FarmWorkerLease survivor = restarted.admittedWorker("survivor");
    QVERIFY(survivor.reclaim(1));
    QVERIFY(!survivor.reclaim(2)); // not part of the new run: committed
    QVERIFY(survivor.renew(1));
    FarmWorkerLease other = restarted.admittedWorker("other");
    QCOMPARE(other.claim(nothingCommitted), std::optional<std::int64_t>(3));
    QCOMPARE(other.claim(nothingCommitted), std::nullopt);
}

void TestFarmLeases::eventsArriveInOrder()
{
    Farm farm;
    FarmWorkerLease a = farm.admittedWorker("a");
    QVERIFY(farm.keeper.drainEvents().empty());
    a.pushEvent("one");
    a.pushEvent("two");
    QCOMPARE(farm.keeper.drainEvents(), (std::vector<std::string>{"one", "two"}));
    QVERIFY(farm.keeper.drainEvents().empty());
}

void TestFarmLeases::randomFaultsNeverCommitTwiceNorLoseAnItem()
{
    // Workers claim, render a few steps (renewing), commit through the folder's first-writer-wins rule, and at
    // random die, stall past their lease, lose items or give them back; then the survivors work calmly. Invariants:
    // no item is committed twice or claimed once its image exists, and in the end every item is committed or
    // failed after using its attempts.
    const int rounds = 300;
    const quint32 baseSeed = QRandomGenerator::global()->generate();
    for (int round = 0; round < rounds; ++round) {
        const quint32 seed = baseSeed + round;
        std::mt19937 random(seed);
        auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(random) < p; };
        Farm farm;
        const int items = 10;
        std::vector<std::int64_t> all(items);
        std::iota(all.begin(), all.end(), 0);
        farm.keeper.publish(all, farm.now);
        std::map<std::int64_t, std::string> folder; // item -> who committed it
        struct Sim
        {
            std::unique_ptr<FarmWorkerLease> lease;
            std::int64_t item = -1;
            int stepsLeft = 0;
            TimePoint stalledUntil{};
        };
        std::vector<Sim> workers(4);
        int generation = 0;
        auto spawn = [&](Sim& w) {
            w = Sim{};
            w.lease = std::make_unique<FarmWorkerLease>(farm.store, farm.keys, "w" + std::to_string(generation++));
            w.lease->requestJoin("ok-" + w.lease->worker());
        };
        for (Sim& w : workers) {
            spawn(w);
        }
        const auto committed = [&](std::int64_t item) { return folder.count(item) != 0; };
        bool calm = false;
        for (int tick = 0; tick < 4000 && farm.keeper.outstanding() > 0; ++tick) {
            calm = tick >= 300;
            farm.now += std::chrono::milliseconds(std::uniform_int_distribution<>(0, calm ? 100 : 300)(random));
            for (Sim& w : workers) {
                if (farm.now < w.stalledUntil) {
                    continue;
                }
                if (!calm && chance(0.01)) {
                    spawn(w); // kill -9: everything it held is left to expire
                    continue;
                }
                if (!calm && chance(0.01)) {
                    w.stalledUntil
                        = farm.now + std::chrono::milliseconds(std::uniform_int_distribution<>(0, 3000)(random));
                    continue;
                }
                if (w.lease->admission() != "yes") {
                    continue;
                }
                if (w.item < 0) {
                    if (const std::optional<std::int64_t> item = w.lease->claim(committed)) {
                        if (committed(*item)) {
                            QFAIL(
                                qPrintable(u"seed %1: item %2 claimed after its image exists"_s.arg(seed).arg(*item)));
                        }
                        w.item = *item;
                        w.stepsLeft = std::uniform_int_distribution<>(1, 4)(random);
                    }
                    continue;
                }
                if (!w.lease->renew(w.item)) {
                    w.item = -1; // lost: stops at this step, commits nothing
                    continue;
                }
                if (!calm && chance(0.03)) {
                    w.lease->release(w.item); // the render failed
                    w.item = -1;
                    continue;
                }
                if (--w.stepsLeft > 0) {
                    continue;
                }
                // The commit gate, then the folder's first-writer-wins link.
                if (w.lease->holds(w.item) && !committed(w.item)) {
                    folder.emplace(w.item, w.lease->worker());
                    w.lease->complete(w.item);
                } else if (committed(w.item)) {
                    QFAIL(qPrintable(
                        u"seed %1: item %2 rendered to the end after its image exists"_s.arg(seed).arg(w.item)));
                }
                w.item = -1;
            }
            farm.keeper.poll(farm.now);
        }
        if (farm.keeper.outstanding() != 0) {
            QFAIL(qPrintable(u"seed %1: %2 items never finished"_s.arg(seed).arg(farm.keeper.outstanding())));
        }
        for (std::int64_t item : all) {
            const Lease lease = farm.lease(item);
            const bool ok = (lease.state == Lease::State::Done && committed(item))
                || (lease.state == Lease::State::Failed && !committed(item));
            if (!ok) {
                QFAIL(qPrintable(u"seed %1: item %2 ends as '%3' with%4 an image"_s.arg(seed).arg(item).arg(
                    QString::fromStdString(lease.encode()), committed(item) ? QString() : u"out"_s)));
            }
        }
    }
    qInfo("%d rounds from seed %u", rounds, baseSeed);
}

QTEST_GUILESS_MAIN(TestFarmLeases)
#include "TestFarmLeases.moc"
