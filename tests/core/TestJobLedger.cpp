// SPDX-License-Identifier: GPL-3.0-or-later
// The coordinator's state machine without processes: scripted fault sequences, then thousands of seeded random
// event sequences checked against the ledger's promises.
#include <QHash>
#include <QSet>
#include <QTest>

#include <limits>
#include <random>

#include "orchestration/JobLedger.h"

using namespace Atelier;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

namespace
{
    LedgerOptions options(int workers)
    {
        LedgerOptions o;
        o.workers = workers;
        o.outputDirectory = u"/out"_s;
        o.handshakeTimeout = 10s;
        o.modelLoadTimeout = 60s;
        o.heartbeatTimeout = 10s;
        o.progressTimeout = 120s;
        o.restartBackoff = 1s;
        o.stopGrace = 5s;
        o.killGrace = 2s;
        return o;
    }

    QList<RenderSettings> prompts(int count)
    {
        QList<RenderSettings> list;
        for (int i = 0; i < count; ++i) {
            RenderSettings s;
            s.prompt = u"prompt %1"_s.arg(i);
            list.append(s);
        }
        return list;
    }

    /// The processes the ledger believes it runs, simulated: what they were sent, whether they live, and whether
    /// they still answer. Applying the ledger's actions to it checks that each action makes sense.
    struct World
    {
        struct Process
        {
            int generation = 0;
            bool alive = false;
            bool connected = false;
            bool ready = false;
            bool hung = false; ///< sends nothing more; only SIGKILL ends it
            bool unkillable = false; ///< killed, but its exit is never reported (uninterruptible sleep)
            bool exitPending = false; ///< dead; its exit event not yet delivered
            bool shutdownAsked = false;
            QList<qint64> jobs;
            QSet<qint64> cancelAsked;
        };

        JobLedger& ledger;
        QList<Process> processes;
        QHash<qint64, QString> paths; ///< the output path each job was last sent with
        QHash<qint64, int> finalActions; ///< JobDone / JobFailed(no retry) / JobCanceled per job
        int finishedActions = 0;
        QString violation; ///< the first broken promise, if any

        World(JobLedger& l, int workers)
            : ledger(l)
            , processes(workers)
        { }

        void fail(const QString& what)
        {
            if (violation.isEmpty()) {
                violation = what;
            }
        }

        void apply()
        {
            for (Action& action : ledger.takeActions()) {
                std::visit([this](auto& a) { on(a); }, action);
            }
        }

        void on(const LedgerAction::Spawn& a)
        {
            if (finishedActions > 0) {
                fail(u"spawned rank %1 after the run finished"_s.arg(a.rank));
            }
            Process& p = processes[a.rank];
            if (p.alive) {
                fail(u"spawned rank %1 while its process lives"_s.arg(a.rank));
            }
            if (!ledger.isWorkerEnabled(a.rank)) {
                fail(u"spawned rank %1, which was taken out of the run"_s.arg(a.rank));
            }
            p = Process{};
            p.generation = a.generation;
            p.alive = true;
        }
        void on(const LedgerAction::SendJobs& a)
        {
            Process& p = processes[a.rank];
            if (!p.alive || !p.connected || !p.ready || !p.jobs.isEmpty() || p.shutdownAsked) {
                fail(u"jobs sent to rank %1, which is not an idle ready worker"_s.arg(a.rank));
            }
            if (finishedActions > 0) {
                fail(u"jobs sent after the run finished"_s);
            }
            if (ledger.isPaused()) {
                fail(u"jobs sent to rank %1 while the queue is paused"_s.arg(a.rank));
            }
            for (qsizetype i = 0; i < a.jobs.size(); ++i) {
                const Ipc::Job& job = a.jobs.at(i);
                if (job.batchIndex != i || job.batchCount != a.jobs.size() || job.outputPath.isEmpty()) {
                    fail(u"job %1 sent with a bad batch place or no path"_s.arg(job.jobId));
                }
                for (int other = 0; other < processes.size(); ++other) {
                    if (processes[other].alive && processes[other].jobs.contains(job.jobId)) {
                        fail(u"job %1 sent to rank %2 while rank %3 has it"_s.arg(job.jobId).arg(a.rank).arg(other));
                    }
                }
                if (isFinal(ledger.job(job.jobId).state)) {
                    fail(u"job %1 sent although it is %2"_s.arg(job.jobId).arg(
                        jobStateName(ledger.job(job.jobId).state)));
                }
                if (ledger.job(job.jobId).cancelRequested) {
                    fail(u"job %1 sent after it was canceled"_s.arg(job.jobId));
                }
                p.jobs.append(job.jobId);
                paths[job.jobId] = job.outputPath;
            }
        }
        void on(const LedgerAction::SendCancel& a) { processes[a.rank].cancelAsked.insert(a.jobId); }
        void on(const LedgerAction::SendShutdown& a) { processes[a.rank].shutdownAsked = true; }
        void on(const LedgerAction::Kill& a)
        {
            Process& p = processes[a.rank];
            if (p.alive) {
                p.alive = false;
                p.jobs.clear();
                p.exitPending = !p.unkillable;
            }
        }
        void on(const LedgerAction::JobStarted&) { }
        void on(const LedgerAction::JobDone& a) { countFinal(a.jobId); }
        void on(const LedgerAction::JobFailed& a)
        {
            if (!a.retry) {
                countFinal(a.jobId);
            } else if (finalActions.value(a.jobId) > 0) {
                fail(u"job %1 reported as retried after it ended"_s.arg(a.jobId));
            }
        }
        void on(const LedgerAction::JobCanceled& a) { countFinal(a.jobId); }
        void on(const LedgerAction::WorkerNote&) { }
        void on(const LedgerAction::Finished&)
        {
            if (++finishedActions > 1) {
                fail(u"finished twice"_s);
            }
            for (int rank = 0; rank < processes.size(); ++rank) {
                if (processes[rank].alive) {
                    fail(u"finished while rank %1's process lives"_s.arg(rank));
                }
            }
        }

        void countFinal(qint64 id)
        {
            if (++finalActions[id] > 1) {
                fail(u"job %1 ended twice"_s.arg(id));
            }
        }

        /// What must hold after every event.
        void checkInvariants()
        {
            QHash<qint64, int> holders;
            for (int rank = 0; rank < processes.size(); ++rank) {
                for (const qint64 id : ledger.jobsOf(rank)) {
                    holders[id] += 1;
                    const JobState state = ledger.job(id).state;
                    if (state != JobState::Assigned && state != JobState::Running) {
                        fail(u"rank %1 holds job %2, which is %3"_s.arg(rank).arg(id).arg(jobStateName(state)));
                    }
                }
            }
            for (const JobRecord& job : ledger.jobs()) {
                const bool inFlight = job.state == JobState::Assigned || job.state == JobState::Running;
                if (inFlight != (holders.value(job.id) == 1) || holders.value(job.id) > 1) {
                    fail(u"job %1 is %2 but held by %3 workers"_s.arg(job.id)
                             .arg(jobStateName(job.state))
                             .arg(holders.value(job.id)));
                }
                if (isFinal(job.state) != (finalActions.value(job.id) == 1)) {
                    fail(u"job %1 is %2 but was reported final %3 times"_s.arg(job.id)
                             .arg(jobStateName(job.state))
                             .arg(finalActions.value(job.id)));
                }
            }
            if (ledger.isFinished() != (finishedActions == 1)) {
                fail(u"the ledger's finished flag and its Finished action disagree"_s);
            }
        }

        bool allJobsFinal() const
        {
            return std::all_of(ledger.jobs().begin(), ledger.jobs().end(),
                               [](const JobRecord& job) { return isFinal(job.state); });
        }
    };

    /// Marks rank @p rank's first process as connected and ready (the test told the ledger so itself).
    void markReady(World& world, int rank)
    {
        World::Process& p = world.processes[rank];
        p.generation = 1;
        p.alive = true;
        p.connected = true;
        p.ready = true;
    }

    /// Adds @p jobs, starts the run, and has rank 0's first process connect (taking @p maxBatch) and load.
    void startWithOneReadyWorker(World& world, const QList<RenderSettings>& jobs, int maxBatch)
    {
        world.ledger.addJobs(jobs, 0ms);
        world.ledger.start(0ms);
        world.apply();
        world.ledger.workerConnected(0, 1, maxBatch, 0ms);
        world.ledger.workerReady(0, 1, 0ms);
        markReady(world, 0);
        world.apply();
    }

    /// Connects, readies and completes whatever the well-behaved processes were sent, once.
    void behave(World& world, Ms now)
    {
        for (int rank = 0; rank < world.processes.size(); ++rank) {
            World::Process& p = world.processes[rank];
            if (!p.alive && p.exitPending) {
                p.exitPending = false;
                world.ledger.workerExited(rank, p.generation, u"killed"_s, now);
            } else if (p.alive && !p.hung) {
                world.ledger.workerHeard(rank, p.generation, now);
                if (p.shutdownAsked && p.jobs.isEmpty()) {
                    p.alive = false;
                    world.ledger.workerExited(rank, p.generation, u"exited with code 0"_s, now);
                } else if (!p.connected) {
                    p.connected = true;
                    world.ledger.workerConnected(rank, p.generation, 2, now);
                } else if (!p.ready) {
                    p.ready = true;
                    world.ledger.workerReady(rank, p.generation, now);
                } else if (!p.jobs.isEmpty()) {
                    const qint64 id = p.jobs.takeFirst();
                    if (p.cancelAsked.contains(id)) {
                        world.ledger.jobError(rank, p.generation, id, u"cancelled"_s, u"cancelled"_s, now);
                    } else {
                        world.ledger.jobResult(rank, p.generation, id, world.paths.value(id), {}, now);
                    }
                }
            }
            world.apply();
        }
    }
} // namespace

class TestJobLedger final : public QObject
{
    Q_OBJECT

private slots:
    void batchRunsEveryJobOnce();
    void finishesWhenAReplacementConnectsLate();
    void stopWhileWorkersStartEnds();
    void silentModelLoadIsLost();
    void modelFailureDisablesTheDeviceAtOnce();
    void takenNameGetsTheNextNumber();
    void badJobIsNotRetried();
    void failingJobGivesUpAfterMaxAttempts();
    void resultAtAnotherPathIsRefused();
    void staleGenerationIsIgnored();
    void imageNumbersContinue();
    void invalidJobFailsWithoutReachingAWorker();
    void seedsAreDrawnOnceAndKeptForRetries();
    void renderThatHangsWhileHeartbeatsFlowIsLost();
    void closedConnectionWhileStoppingIsKilled();
    void restartWaitsForTheOldProcessToGo();
    void stopBeforeStartFinishes();
    void imageWrittenBeforeTheWorkerDiedIsKept();
    void takenOutDeviceHandsItsJobsToTheOthers();
    void addedWorkerStartsAndTakesWork();
    void disabledDeviceComesBackWhenCheckedAgain();
    void pausedQueueStartsNothingNew();
    void cancelingARunningJobCancelsOnlyIt();
    void cancelingAJobThatWaitsEndsItAtOnce();
    void randomEventSequences_data();
    void randomEventSequences();
};

void TestJobLedger::batchRunsEveryJobOnce()
{
    JobLedger ledger(options(2));
    ledger.setSeedSource([] { return quint64(7); });
    World world(ledger, 2);
    ledger.addJobs(prompts(5), 0ms);
    ledger.start(0ms);
    world.apply();
    Ms now = 0ms;
    for (int i = 0; i < 100 && !ledger.isFinished(); ++i) {
        now += 100ms;
        behave(world, now);
        ledger.tick(now);
        world.apply();
        world.checkInvariants();
        QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
    }
    QVERIFY(ledger.isFinished());
    for (const JobRecord& job : ledger.jobs()) {
        QCOMPARE(job.state, JobState::Done);
        QCOMPARE(job.attempts, 1);
        QCOMPARE(job.settings.seed, std::optional<quint64>(7));
    }
    QCOMPARE(ledger.jobsDoneBy(0) + ledger.jobsDoneBy(1), 5);
}

// The hang of issue 11: when 6 of 7 jobs are done, the idle worker is killed; its replacement is held (SIGSTOP)
// until the last image is written, then connects. The run must finish anyway, and quickly.
void TestJobLedger::finishesWhenAReplacementConnectsLate()
{
    JobLedger ledger(options(2));
    World world(ledger, 2);
    ledger.addJobs(prompts(7), 0ms);
    ledger.start(0ms);
    world.apply();
    Ms now = 0ms;
    auto doneCount = [&] {
        return std::count_if(ledger.jobs().begin(), ledger.jobs().end(),
                             [](const JobRecord& j) { return j.state == JobState::Done; });
    };
    while (doneCount() < 6) {
        now += 100ms;
        behave(world, now);
        QVERIFY(now < 60s);
    }
    // The idle one dies; its replacement starts and then stops answering.
    const int idle = ledger.workerState(0) == WorkerState::Idle ? 0 : 1;
    QCOMPARE(ledger.workerState(idle), WorkerState::Idle);
    world.processes[idle].alive = false;
    ledger.workerExited(idle, world.processes[idle].generation, u"killed by signal 9"_s, now);
    world.apply();
    now += 1100ms;
    ledger.tick(now);
    world.apply();
    QCOMPARE(ledger.workerState(idle), WorkerState::Starting);
    world.processes[idle].hung = true; // SIGSTOP
    while (doneCount() < 7) {
        now += 100ms;
        behave(world, now);
        ledger.tick(now);
        world.apply();
        QVERIFY(now < 60s);
    }
    const Ms lastDone = now;
    world.processes[idle].hung = false; // SIGCONT: it connects now, after everything is done
    ledger.workerConnected(idle, world.processes[idle].generation, 1, now);
    world.apply();
    while (!ledger.isFinished()) {
        now += 250ms;
        behave(world, now);
        ledger.tick(now);
        world.apply();
        QVERIFY2(now - lastDone <= 7500ms, "the run did not finish after its last job");
    }
    world.checkInvariants();
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::stopWhileWorkersStartEnds()
{
    // SIGINT in the first moments of a run: nobody has connected yet.
    JobLedger ledger(options(2));
    World world(ledger, 2);
    ledger.addJobs(prompts(3), 0ms);
    ledger.start(0ms);
    world.apply();
    ledger.stop(200ms);
    world.apply();
    // The workers connect afterwards, and one never exits.
    world.processes[1].unkillable = true;
    Ms now = 200ms;
    while (!ledger.isFinished()) {
        now += 250ms;
        ledger.workerConnected(0, world.processes[0].generation, 1, now);
        behave(world, now);
        ledger.tick(now);
        world.apply();
        QVERIFY2(now <= 200ms + 2s + 500ms, "stop did not end the run in time");
    }
    for (const JobRecord& job : ledger.jobs()) {
        QCOMPARE(job.state, JobState::Canceled);
    }
    QCOMPARE(ledger.unfinishedJobs().size(), 3);
    world.checkInvariants();
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::silentModelLoadIsLost()
{
    // A model "file" that is a FIFO: the load never returns, but heartbeats flow from the worker's main thread.
    LedgerOptions o = options(1);
    o.failuresBeforeDisabling = 2;
    JobLedger ledger(o);
    World world(ledger, 1);
    ledger.addJobs(prompts(1), 0ms);
    ledger.start(0ms);
    world.apply();
    ledger.workerConnected(0, 1, 1, 0ms);
    world.apply();
    Ms now = 0ms;
    while (!ledger.isFinished()) {
        now += 1s;
        ledger.workerHeard(0, world.processes[0].generation, now);
        if (world.processes[0].alive && !world.processes[0].connected) {
            world.processes[0].connected = true;
            ledger.workerConnected(0, world.processes[0].generation, 1, now);
        }
        ledger.tick(now);
        world.apply();
        if (world.processes[0].exitPending) {
            world.processes[0].exitPending = false;
            ledger.workerExited(0, world.processes[0].generation, u"killed"_s, now);
            world.apply();
        }
        QVERIFY(now < 10min);
    }
    QCOMPARE(ledger.job(0).state, JobState::Failed);
    QVERIFY2(ledger.job(0).lastError.contains(u"did not load its model within 60 s"_s),
             qPrintable(ledger.job(0).lastError));
    QCOMPARE(ledger.workerState(0), WorkerState::Disabled);
}

void TestJobLedger::modelFailureDisablesTheDeviceAtOnce()
{
    JobLedger ledger(options(2));
    World world(ledger, 2);
    ledger.addJobs(prompts(2), 0ms);
    ledger.start(0ms);
    world.apply();
    for (int rank = 0; rank < 2; ++rank) {
        ledger.workerConnected(rank, 1, 1, 0ms);
        ledger.workerCannotWork(rank, 1, u"model: unet/config.json: cannot read"_s, 10ms);
        world.apply();
        QCOMPARE(ledger.workerState(rank), WorkerState::Disabled);
    }
    QVERIFY(ledger.isFinished());
    for (const JobRecord& job : ledger.jobs()) {
        QCOMPARE(job.state, JobState::Failed);
        QCOMPARE(job.attempts, 0); // never tried: the device failed, not the job
        QVERIFY2(job.lastError.contains(u"unet/config.json: cannot read"_s), qPrintable(job.lastError));
    }
    // Exactly one start per device: a model that does not load is not retried on restarts.
    QCOMPARE(ledger.workerGeneration(0), 1);
    QCOMPARE(ledger.workerGeneration(1), 1);
}

void TestJobLedger::takenNameGetsTheNextNumber()
{
    JobLedger ledger(options(1));
    ledger.setFirstImageNumber(12);
    ledger.setSeedSource([] { return quint64(5); });
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(1), 1);
    QCOMPARE(world.paths.value(0), u"/out/00012-5-prompt-0.png"_s);
    ledger.jobError(0, 1, 0, u"exists"_s, u"taken"_s, 1ms);
    world.processes[0].jobs.clear();
    world.apply();
    QCOMPARE(world.paths.value(0), u"/out/00013-5-prompt-0.png"_s);
    QCOMPARE(ledger.job(0).attempts, 1); // a taken name is not the job's fault
}

void TestJobLedger::badJobIsNotRetried()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(2), 1);
    ledger.jobError(0, 1, 0, u"bad-job"_s, u"unknown sampler"_s, 1ms);
    world.processes[0].jobs.clear();
    world.apply();
    QCOMPARE(ledger.job(0).state, JobState::Failed);
    QCOMPARE(ledger.job(0).attempts, 1);
    QCOMPARE(ledger.job(1).state, JobState::Assigned);
}

void TestJobLedger::failingJobGivesUpAfterMaxAttempts()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(1), 1);
    for (int attempt = 1; attempt <= 3; ++attempt) {
        QCOMPARE(ledger.job(0).attempts, attempt);
        ledger.jobError(0, 1, 0, u"oom"_s, u"out of memory"_s, Ms(attempt));
        world.processes[0].jobs.clear();
        world.apply();
    }
    QCOMPARE(ledger.job(0).state, JobState::Failed);
    QCOMPARE(ledger.job(0).lastError, u"oom: out of memory"_s);
    QCOMPARE(world.finalActions.value(0), 1);
}

void TestJobLedger::resultAtAnotherPathIsRefused()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(1), 1);
    ledger.jobResult(0, 1, 0, u"/etc/passwd"_s, {}, 1ms);
    world.apply();
    QCOMPARE(ledger.job(0).state, JobState::Queued);
    QCOMPARE(ledger.workerState(0), WorkerState::Backoff);
    QVERIFY(world.processes[0].exitPending); // killed
}

void TestJobLedger::staleGenerationIsIgnored()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    ledger.addJobs(prompts(1), 0ms);
    ledger.start(0ms);
    world.apply();
    ledger.workerExited(0, 1, u"crashed"_s, 1ms);
    ledger.tick(1500ms);
    world.apply();
    QCOMPARE(ledger.workerGeneration(0), 2);
    // The first process's late news changes nothing.
    ledger.workerConnected(0, 1, 1, 1600ms);
    ledger.workerExited(0, 1, u"crashed"_s, 1600ms);
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Starting);
}

void TestJobLedger::imageNumbersContinue()
{
    JobLedger ledger(options(1));
    ledger.setFirstImageNumber(41);
    ledger.setSeedSource([] { return quint64(1); });
    World world(ledger, 1);
    ledger.addJobs(prompts(3), 0ms);
    ledger.start(0ms);
    Ms now = 0ms;
    while (!ledger.isFinished()) {
        now += 100ms;
        behave(world, now);
        QVERIFY(now < 60s);
    }
    QCOMPARE(ledger.job(0).imagePath, u"/out/00041-1-prompt-0.png"_s);
    QCOMPARE(ledger.job(2).imagePath, u"/out/00043-1-prompt-2.png"_s);
}

void TestJobLedger::invalidJobFailsWithoutReachingAWorker()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    QList<RenderSettings> jobs = prompts(2);
    jobs[0].cfgScale = std::numeric_limits<double>::quiet_NaN();
    startWithOneReadyWorker(world, jobs, 2);
    QCOMPARE(ledger.job(0).state, JobState::Failed);
    QCOMPARE(ledger.job(0).attempts, 0);
    QVERIFY2(ledger.job(0).lastError.startsWith(u"bad-job: cfg_scale"_s), qPrintable(ledger.job(0).lastError));
    QCOMPARE(ledger.jobsOf(0), QList<qint64>{1});
}

void TestJobLedger::seedsAreDrawnOnceAndKeptForRetries()
{
    JobLedger ledger(options(1));
    quint64 next = 100;
    ledger.setSeedSource([&] { return next++; });
    World world(ledger, 1);
    QList<RenderSettings> jobs = prompts(3);
    jobs[2].seed = 5; // given: never replaced
    startWithOneReadyWorker(world, jobs, 1);
    QCOMPARE(ledger.job(0).settings.seed, std::optional<quint64>(100));
    ledger.jobError(0, 1, 0, u"oom"_s, u"out of memory"_s, 1ms); // retried, with the same seed
    world.processes[0].jobs.clear();
    world.apply();
    QCOMPARE(ledger.job(0).attempts, 2);
    QCOMPARE(ledger.job(0).settings.seed, std::optional<quint64>(100));
    Ms now = 1ms;
    while (!ledger.isFinished()) {
        now += 100ms;
        behave(world, now);
        QVERIFY(now < 60s);
    }
    QCOMPARE(ledger.job(1).settings.seed, std::optional<quint64>(101));
    QCOMPARE(ledger.job(2).settings.seed, std::optional<quint64>(5));
    QCOMPARE(next, quint64(102)); // two draws, for the two jobs without a seed
}

// Heartbeats come from the worker's main thread, which a render stuck inside the engine does not block.
void TestJobLedger::renderThatHangsWhileHeartbeatsFlowIsLost()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(1), 1);
    ledger.jobProgress(0, 1, 0, 1s);
    Ms now = 1s;
    while (ledger.workerState(0) == WorkerState::Busy) {
        now += 1s;
        ledger.workerHeard(0, 1, now);
        ledger.tick(now);
        world.apply();
        QVERIFY(now < 1s + 120s + 2s);
    }
    QVERIFY(now > 1s + 120s);
    QCOMPARE(ledger.workerState(0), WorkerState::Backoff);
    QCOMPARE(ledger.job(0).state, JobState::Queued);
    QVERIFY2(ledger.job(0).lastError.contains(u"made no progress for 120 s"_s), qPrintable(ledger.job(0).lastError));
}

void TestJobLedger::closedConnectionWhileStoppingIsKilled()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(1), 1);
    ledger.stop(1s);
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Stopping);
    ledger.workerDisconnected(0, 1, 2s); // its socket closed, its process lingers
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Killed);
    QVERIFY(!world.processes[0].alive);
    ledger.tick(2s + 2001ms);
    world.apply();
    QVERIFY(ledger.isFinished());
    QCOMPARE(ledger.job(0).state, JobState::Canceled);
}

void TestJobLedger::restartWaitsForTheOldProcessToGo()
{
    JobLedger ledger(options(1));
    World world(ledger, 1);
    ledger.addJobs(prompts(1), 0ms);
    ledger.start(0ms);
    ledger.workerConnected(0, 1, 1, 0ms);
    world.apply();
    ledger.workerMisbehaved(0, 1, u"garbage"_s, 0ms); // killed; its exit not reported yet
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Backoff);
    ledger.tick(1500ms); // the back-off (1 s) is over, the old process not yet gone
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Backoff);
    ledger.workerExited(0, 1, u"killed"_s, 1600ms);
    ledger.tick(1700ms);
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Starting);
    QCOMPARE(ledger.workerGeneration(0), 2);

    // An exit that never comes delays the restart by killGrace at most.
    ledger.workerMisbehaved(0, 2, u"garbage"_s, 2s);
    ledger.tick(3500ms);
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Backoff);
    ledger.tick(4001ms);
    world.apply();
    QCOMPARE(ledger.workerState(0), WorkerState::Starting);
}

void TestJobLedger::stopBeforeStartFinishes()
{
    JobLedger ledger(options(2));
    World world(ledger, 2);
    ledger.addJobs(prompts(2), 0ms);
    ledger.stop(0ms);
    ledger.start(0ms);
    world.apply();
    QVERIFY(ledger.isFinished());
    QCOMPARE(ledger.workerGeneration(0), 0); // nothing was started
    QCOMPARE(ledger.unfinishedJobs().size(), 2);
}

// SIGKILL between the image's commit and its Result: the image is there, so the job is done, not made twice.
void TestJobLedger::imageWrittenBeforeTheWorkerDiedIsKept()
{
    JobLedger ledger(options(1));
    QStringList onDisk;
    ledger.setImageCheck([&](const QString& path) { return onDisk.contains(path); });
    ledger.setSeedSource([] { return quint64(3); });
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(2), 2);
    QCOMPARE(ledger.jobsOf(0).size(), 2);
    onDisk.append(world.paths.value(0));
    world.processes[0].alive = false;
    ledger.workerExited(0, 1, u"killed by signal 9"_s, 1s);
    world.apply();
    QCOMPARE(ledger.job(0).state, JobState::Done);
    QCOMPARE(ledger.job(0).imagePath, u"/out/00000-3-prompt-0.png"_s);
    QCOMPARE(ledger.job(1).state, JobState::Queued);
    QCOMPARE(world.finalActions.value(0), 1);
}

void TestJobLedger::takenOutDeviceHandsItsJobsToTheOthers()
{
    LedgerOptions o = options(2);
    o.keepRunningWhenIdle = true;
    o.maxBatch = 1;
    JobLedger ledger(o);
    World world(ledger, 2);
    ledger.addJobs(prompts(3), 0ms);
    ledger.start(0ms);
    world.apply();
    behave(world, 0ms); // connect
    behave(world, 0ms); // ready: job 0 to rank 0, job 1 to rank 1
    QCOMPARE(ledger.jobsOf(0), QList<qint64>{0});
    QCOMPARE(ledger.jobsOf(1), QList<qint64>{1});

    ledger.setWorkerEnabled(1, false, 1s);
    world.apply();
    QVERIFY(world.processes[1].cancelAsked.contains(1));
    QCOMPARE(ledger.workerState(1), WorkerState::Stopping);
    ledger.jobError(1, 1, 1, u"cancelled"_s, u"cancelled"_s, 1s);
    world.processes[1].jobs.clear();
    world.apply();
    QCOMPARE(ledger.job(1).state, JobState::Queued);
    QCOMPARE(ledger.job(1).attempts, 0); // handing back is not an attempt
    QVERIFY(world.processes[1].shutdownAsked);
    world.processes[1].alive = false;
    ledger.workerExited(1, 1, u"exited with code 0"_s, 2s);
    world.apply();
    QCOMPARE(ledger.workerState(1), WorkerState::Exited);
    // Rank 0 does all that is left; rank 1 is never started again while it is out.
    for (Ms now = 2s; now < 30s && !world.allJobsFinal(); now += 250ms) {
        behave(world, now);
        ledger.tick(now);
        world.apply();
    }
    QVERIFY(world.allJobsFinal());
    QCOMPARE(ledger.jobsDoneBy(0), 3);
    QCOMPARE(world.processes[1].generation, 1);
    QVERIFY(!world.processes[1].alive);
    QVERIFY(!ledger.isFinished()); // a window's run waits for more

    ledger.setWorkerEnabled(1, true, 30s);
    world.apply();
    QCOMPARE(world.processes[1].generation, 2);
    QCOMPARE(ledger.workerState(1), WorkerState::Starting);
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::addedWorkerStartsAndTakesWork()
{
    LedgerOptions o = options(1);
    o.keepRunningWhenIdle = true;
    o.maxBatch = 1;
    JobLedger ledger(o);
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(2), 1);
    QCOMPARE(ledger.jobsOf(0), QList<qint64>{0});
    world.processes.append(World::Process{});
    QCOMPARE(ledger.addWorker(1s), 1);
    world.apply();
    QCOMPARE(world.processes[1].generation, 1);
    QVERIFY(world.processes[1].alive);
    ledger.workerConnected(1, 1, 1, 1s);
    ledger.workerReady(1, 1, 1s);
    world.processes[1].connected = world.processes[1].ready = true;
    world.apply();
    QCOMPARE(ledger.jobsOf(1), QList<qint64>{1}); // while rank 0 still renders job 0
    QCOMPARE(world.processes[0].generation, 1); // the first worker was left alone
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::disabledDeviceComesBackWhenCheckedAgain()
{
    LedgerOptions o = options(2);
    o.keepRunningWhenIdle = true;
    JobLedger ledger(o);
    World world(ledger, 2);
    ledger.start(0ms);
    world.apply();
    behave(world, 0ms);
    ledger.workerCannotWork(1, 1, u"model: out of memory"_s, 1s);
    world.apply();
    QCOMPARE(ledger.workerState(1), WorkerState::Disabled);
    ledger.setWorkerEnabled(1, true, 2s); // already enabled: nothing happens
    world.apply();
    QCOMPARE(ledger.workerState(1), WorkerState::Disabled);
    ledger.workerExited(1, 1, u"killed"_s, 2s);
    world.processes[1].exitPending = false;
    ledger.setWorkerEnabled(1, false, 3s);
    ledger.setWorkerEnabled(1, true, 3s);
    world.apply();
    QCOMPARE(ledger.workerState(1), WorkerState::Starting);
    QCOMPARE(world.processes[1].generation, 2);
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::pausedQueueStartsNothingNew()
{
    LedgerOptions o = options(1);
    o.keepRunningWhenIdle = true;
    JobLedger ledger(o);
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(3), 1);
    QCOMPARE(ledger.jobsOf(0), QList<qint64>{0});
    ledger.setPaused(true, 1s);
    behave(world, 1s); // job 0 finishes
    QCOMPARE(ledger.job(0).state, JobState::Done);
    for (Ms now = 1s; now < 20s; now += 250ms) {
        behave(world, now);
        ledger.tick(now);
        world.apply();
    }
    QCOMPARE(ledger.job(1).state, JobState::Queued);
    QCOMPARE(ledger.workerState(0), WorkerState::Idle);
    ledger.setPaused(false, 20s);
    world.apply();
    QCOMPARE(ledger.jobsOf(0), QList<qint64>{1});
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::cancelingARunningJobCancelsOnlyIt()
{
    LedgerOptions o = options(1);
    o.keepRunningWhenIdle = true;
    JobLedger ledger(o);
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(2), 2);
    QCOMPARE(ledger.jobsOf(0), (QList<qint64>{0, 1})); // one batch
    QVERIFY(ledger.cancelJob(0, 1s));
    world.apply();
    QVERIFY(world.processes[0].cancelAsked.contains(0));
    // The worker stops the whole batch.
    ledger.jobError(0, 1, 0, u"cancelled"_s, u"cancelled"_s, 1s);
    ledger.jobError(0, 1, 1, u"cancelled"_s, u"cancelled"_s, 1s);
    world.processes[0].jobs.clear();
    world.apply();
    QCOMPARE(ledger.job(0).state, JobState::Canceled);
    QVERIFY(ledger.job(0).cancelRequested);
    QVERIFY(ledger.unfinishedJobs().size() == 1); // only its batch mate is handed back
    // Its batch mate goes on, its attempt not counted.
    QCOMPARE(ledger.jobsOf(0), QList<qint64>{1});
    QCOMPARE(ledger.job(1).attempts, 1);
    QVERIFY(!ledger.cancelJob(0, 2s)); // final already
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::cancelingAJobThatWaitsEndsItAtOnce()
{
    LedgerOptions o = options(1);
    o.keepRunningWhenIdle = true;
    o.maxBatch = 1;
    JobLedger ledger(o);
    World world(ledger, 1);
    startWithOneReadyWorker(world, prompts(2), 1);
    QVERIFY(ledger.cancelJob(1, 1s));
    world.apply();
    QCOMPARE(ledger.job(1).state, JobState::Canceled);
    QCOMPARE(world.finalActions.value(1), 1);
    behave(world, 1s);
    QCOMPARE(ledger.job(0).state, JobState::Done);
    QCOMPARE(ledger.workerState(0), WorkerState::Idle);
    QVERIFY2(world.violation.isEmpty(), qPrintable(world.violation));
}

void TestJobLedger::randomEventSequences_data()
{
    QTest::addColumn<bool>("keepRunning");
    QTest::addColumn<int>("workers");
    QTest::addColumn<int>("firstSeed");
    QTest::newRow("batch, 1 worker") << false << 1 << 1000;
    QTest::newRow("batch, 2 workers") << false << 2 << 2000;
    QTest::newRow("batch, 3 workers") << false << 3 << 3000;
    QTest::newRow("window, 2 workers") << true << 2 << 4000;
}

// Thousands of seeded runs in which workers start, connect, load, stall, crash, restart late, send stale and
// wrong news, and in which stop and kill come in any state. After every event the ledger's promises must hold;
// at the end, well-behaved workers must bring every run to its finish within the bounds the ledger promises.
void TestJobLedger::randomEventSequences()
{
    QFETCH(bool, keepRunning);
    QFETCH(int, workers);
    QFETCH(int, firstSeed);
    constexpr int Rounds = 500;
    const QStringList codes{u"oom"_s, u"engine"_s, u"io"_s, u"bad-job"_s, u"exists"_s, u"busy"_s};
    for (int seed = firstSeed; seed < firstSeed + Rounds; ++seed) {
        std::mt19937 random(static_cast<std::mt19937::result_type>(seed));
        auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(random) < p; };
        auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };

        LedgerOptions o = options(workers);
        o.keepRunningWhenIdle = keepRunning;
        o.maxBatch = 1 + pick(3);
        JobLedger ledger(o);
        ledger.setSeedSource([&] { return quint64(random()); });
        // The window's way: jobs wait in an outside queue and are taken only when a worker is ready.
        QList<RenderSettings> outside;
        qsizetype taken = 0;
        qsizetype direct = 0;
        if (keepRunning) {
            ledger.setJobSource(
                [&]() -> std::optional<SourcedJob> {
                    if (outside.isEmpty()) {
                        return std::nullopt;
                    }
                    ++taken;
                    return SourcedJob{outside.takeFirst(), -1, 0, {}};
                },
                [&] { return outside.size(); });
        }
        World world(ledger, workers);
        Ms now = 0ms;
        const QList<RenderSettings> first = prompts(1 + pick(12));
        direct += first.size();
        ledger.addJobs(first, now);
        outside += prompts(pick(6));
        ledger.start(now);
        world.apply();

        std::optional<Ms> settledSince; ///< batch runs: when every job became final
        std::optional<Ms> stoppedAt;
        const Ms bound = o.stopGrace + o.killGrace + 3s; // plus the longest clock step below
        auto checkBounds = [&] {
            world.checkInvariants();
            if (!keepRunning && !settledSince && world.allJobsFinal()) {
                settledSince = now;
            }
            for (const std::optional<Ms>& since : {settledSince, stoppedAt}) {
                if (since && !ledger.isFinished() && now - *since > bound) {
                    world.fail(u"not finished %1 ms after it could"_s.arg((now - *since).count()));
                }
            }
        };

        for (int event = 0; event < 300 && !ledger.isFinished() && world.violation.isEmpty(); ++event) {
            const int rank = pick(ledger.workerCount());
            World::Process& p = world.processes[rank];
            const int generation = p.generation;
            switch (pick(keepRunning ? 18 : 14)) {
            case 0:
            case 1:
                now += Ms(pick(1500));
                ledger.tick(now);
                break;
            case 2:
                if (p.alive && !p.hung && !p.connected) {
                    p.connected = true;
                    ledger.workerConnected(rank, generation, 1 + pick(4), now);
                }
                break;
            case 3:
                if (p.alive && !p.hung && p.connected && !p.ready) {
                    if (chance(0.9)) {
                        p.ready = true;
                        ledger.workerReady(rank, generation, now);
                    } else {
                        ledger.workerCannotWork(rank, generation, u"model: cannot load"_s, now);
                    }
                }
                break;
            case 4:
            case 5:
            case 6:
                if (p.alive && !p.hung && !p.jobs.isEmpty()) {
                    const qint64 id = p.jobs.at(pick(static_cast<int>(p.jobs.size())));
                    const int what = pick(10);
                    if (what < 5) {
                        p.jobs.removeOne(id);
                        ledger.jobResult(rank, generation, id, world.paths.value(id), {}, now);
                    } else if (what < 7) {
                        ledger.jobProgress(rank, generation, id, now);
                    } else if (what < 9 || !p.cancelAsked.contains(id)) {
                        p.jobs.removeOne(id);
                        ledger.jobError(rank, generation, id, codes.at(pick(static_cast<int>(codes.size()))),
                                        u"failed"_s, now);
                    } else {
                        p.jobs.removeOne(id);
                        ledger.jobError(rank, generation, id, u"cancelled"_s, u"cancelled"_s, now);
                    }
                }
                break;
            case 7:
                if (p.alive && !p.hung) {
                    ledger.workerHeard(rank, generation, now);
                }
                break;
            case 8:
                if (p.alive && chance(0.3)) { // a crash
                    p.alive = false;
                    p.jobs.clear();
                    ledger.workerExited(rank, generation, u"crashed"_s, now);
                } else if (p.alive && chance(0.2)) {
                    p.hung = true;
                    p.unkillable = chance(0.3);
                } else if (p.alive && p.connected && chance(0.2)) { // its socket closes; the process lingers
                    p.hung = true;
                    ledger.workerDisconnected(rank, generation, now);
                }
                break;
            case 9:
                if (!p.alive && p.exitPending) {
                    p.exitPending = false;
                    ledger.workerExited(rank, generation, u"killed"_s, now);
                }
                break;
            case 10:
                if (p.alive && !p.hung && p.shutdownAsked && (p.jobs.isEmpty() || chance(0.3))) {
                    p.alive = false;
                    p.jobs.clear();
                    ledger.workerExited(rank, generation, u"exited with code 0"_s, now);
                }
                break;
            case 11: // news from a process that was replaced, or a result for a job it never had
                if (generation > 1 && chance(0.5)) {
                    ledger.workerConnected(rank, generation - 1, 1, now);
                    ledger.workerReady(rank, generation - 1, now);
                    ledger.jobResult(rank, generation - 1, pick(12), u"/out/x.png"_s, {}, now);
                    ledger.workerExited(rank, generation - 1, u"crashed"_s, now);
                } else if (p.alive && !p.hung && p.ready && chance(0.2)) {
                    ledger.jobResult(rank, generation, 1000 + pick(10), u"/out/x.png"_s, {}, now);
                } else if (p.alive && !p.hung && chance(0.1)) {
                    ledger.workerMisbehaved(rank, generation, u"garbage"_s, now);
                }
                break;
            case 12:
                if (chance(0.1)) {
                    if (keepRunning && chance(0.5)) {
                        outside += prompts(1 + pick(3));
                        ledger.addJobs({}, now); // what the queue's size signal does
                    } else {
                        const QList<RenderSettings> more = prompts(1 + pick(3));
                        direct += more.size();
                        ledger.addJobs(more, now);
                    }
                }
                break;
            // The window's controls, which a batch run never uses.
            case 14:
                if (ledger.workerCount() < 5 && chance(0.1)) {
                    world.processes.append(World::Process{}); // last use of p: the list may move
                    ledger.addWorker(now);
                }
                break;
            case 15:
                if (chance(0.3)) {
                    ledger.setWorkerEnabled(rank, !ledger.isWorkerEnabled(rank), now);
                }
                break;
            case 16:
                if (chance(0.3)) {
                    ledger.setPaused(!ledger.isPaused(), now);
                }
                break;
            case 17:
                if (!ledger.jobs().isEmpty() && chance(0.3)) {
                    const qint64 id = pick(static_cast<int>(ledger.jobs().size()));
                    const bool wasFinal = isFinal(ledger.job(id).state);
                    if (ledger.cancelJob(id, now) == wasFinal) {
                        world.fail(u"cancelJob(%1) answered wrongly"_s.arg(id));
                    }
                }
                break;
            case 13:
                if (chance(0.05)) {
                    if (!stoppedAt && !ledger.isFinished()) {
                        stoppedAt = now;
                    }
                    if (chance(0.3)) {
                        ledger.kill(now);
                    } else {
                        ledger.stop(now);
                    }
                }
                break;
            }
            world.apply();
            checkBounds();
        }
        // Whatever happened, a window's run ends only when asked to.
        if (keepRunning && !stoppedAt && !ledger.isFinished()) {
            if (chance(0.5)) {
                // First let it work, on every device: nothing may be lost meanwhile.
                ledger.setPaused(false, now);
                for (int r = 0; r < ledger.workerCount(); ++r) {
                    ledger.setWorkerEnabled(r, true, now);
                }
                world.apply();
                for (int i = 0; i < 400 && !(world.allJobsFinal() && outside.isEmpty()) && world.violation.isEmpty();
                     ++i) {
                    now += 250ms;
                    behave(world, now);
                    ledger.tick(now);
                    world.apply();
                    checkBounds();
                }
            }
            stoppedAt = now;
            ledger.stop(now);
            world.apply();
        }
        for (int i = 0; i < 2400 && !ledger.isFinished() && world.violation.isEmpty(); ++i) {
            now += 250ms;
            behave(world, now);
            ledger.tick(now);
            world.apply();
            checkBounds();
        }
        if (!ledger.isFinished()) {
            world.fail(u"never finished"_s);
        }
        // Nothing taken from the outside queue is lost: each became a job of the ledger.
        if (ledger.jobs().size() != direct + taken) {
            world.fail(
                u"%1 jobs in the ledger, but %2 added and %3 taken"_s.arg(ledger.jobs().size()).arg(direct).arg(taken));
        }
        if (!keepRunning && !stoppedAt) {
            for (const JobRecord& job : ledger.jobs()) {
                if (job.state == JobState::Canceled) {
                    world.fail(u"job %1 canceled in a run nobody stopped"_s.arg(job.id));
                }
            }
        }
        QVERIFY2(world.violation.isEmpty(),
                 qPrintable(u"seed %1: %2 (rerun this row to reproduce)"_s.arg(seed).arg(world.violation)));
    }
}

QTEST_APPLESS_MAIN(TestJobLedger)
#include "TestJobLedger.moc"
