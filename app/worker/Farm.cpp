// SPDX-License-Identifier: GPL-3.0-or-later
#include "Farm.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSet>
#include <QSysInfo>
#include <QTimer>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "engine/Devices.h"
#include "engine/FarmLeases.h"
#include "farm/FarmFolder.h"
#include "orchestration/BatchConsole.h"
#include "orchestration/Coordinator.h"
#include "render/OutputNaming.h"

using namespace Qt::StringLiterals;
using namespace Atelier::Farm;

namespace Atelier::Worker
{
    namespace
    {
        std::vector<std::uint8_t> bytes(const QString& text)
        {
            const QByteArray utf8 = text.toUtf8();
            return {utf8.begin(), utf8.end()};
        }
        QString text(const std::vector<std::uint8_t>& bytes)
        {
            return QString::fromUtf8(reinterpret_cast<const char*>(bytes.data()), qsizetype(bytes.size()));
        }

        /// "HOST:PORT" into its parts; false when it is not one.
        bool splitAddress(const QString& address, QString* host, quint16* port)
        {
            const qsizetype colon = address.lastIndexOf(u':');
            bool ok = false;
            const uint number = colon > 0 ? address.mid(colon + 1).toUInt(&ok) : 0;
            if (!ok || number > 65535) {
                return false;
            }
            *host = address.left(colon);
            *port = quint16(number);
            return true;
        }

        /// This host's own IPv4 address, as its name resolves (on a cluster: its address on the cluster network);
        /// the loopback address when the name resolves to nothing else.
        QString ownAddress()
        {
            addrinfo hints{};
            hints.ai_family = AF_INET;
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* found = nullptr;
            QString address = u"127.0.0.1"_s;
            if (::getaddrinfo(QSysInfo::machineHostName().toLocal8Bit().constData(), nullptr, &hints, &found) == 0) {
                for (addrinfo* a = found; a; a = a->ai_next) {
                    char text[INET_ADDRSTRLEN] = {};
                    const auto* ip = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
                    if (::inet_ntop(AF_INET, &ip->sin_addr, text, sizeof text)
                        && !QString::fromLatin1(text).startsWith(u"127."_s)) {
                        address = QString::fromLatin1(text);
                        break;
                    }
                }
                ::freeaddrinfo(found);
            }
            return address;
        }

        /// A listening socket bound to @p host only (c10d's own server would bind every interface), for the store
        /// to take over. Returns the descriptor, or -1 with @p error set.
        int listenOn(const QString& host, quint16 port, quint16* bound, QString* error)
        {
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(port);
            if (::inet_pton(AF_INET, host.toLatin1().constData(), &address.sin_addr) != 1) {
                *error = u"--listen: \"%1\" is not an IPv4 address"_s.arg(host);
                return -1;
            }
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const int yes = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
            if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0
                || ::listen(fd, 512) != 0) {
                *error = u"cannot listen on %1:%2: %3"_s.arg(host).arg(port).arg(
                    QString::fromLocal8Bit(std::strerror(errno)));
                if (fd >= 0) {
                    ::close(fd);
                }
                return -1;
            }
            socklen_t length = sizeof address;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
            *bound = ntohs(address.sin_port);
            return fd;
        }

        c10::intrusive_ptr<c10d::TCPStore> connectStore(const QString& host, quint16 port,
                                                        std::chrono::milliseconds timeout)
        {
            c10d::TCPStoreOptions options;
            options.port = port;
            options.isServer = false;
            options.waitWorkers = false;
            options.timeout = timeout;
            return c10::make_intrusive<c10d::TCPStore>(host.toStdString(), options);
        }

        QJsonObject parseEvent(const std::string& event)
        {
            return QJsonDocument::fromJson(QByteArray::fromStdString(event)).object();
        }
    } // namespace

    // ---- the coordinator ------------------------------------------------------------------------------------------

    int runFarmHost(const QStringList& arguments)
    {
        const InterruptGuard interrupts;
        QCommandLineParser parser;
        parser.setApplicationDescription(u"The farm's coordinator; started by `atelier farm serve`."_s);
        parser.addHelpOption();
        parser.addPositionalArgument(u"farm-host"_s, u"The command."_s);
        parser.addOptions(
            {{u"out"_s, u"The shared output folder."_s, u"dir"_s},
             {u"run"_s, u"The run's id (its plan is in the folder)."_s, u"id"_s},
             {u"listen"_s, u"HOST:PORT to listen on (default: this host's address, a free port)."_s, u"address"_s},
             {u"lease-timeout"_s, u"Milliseconds a worker may go silent."_s, u"ms"_s, u"15000"_s},
             {u"max-attempts"_s, u"Renders an item gets."_s, u"n"_s, u"3"_s},
             {u"json"_s, u"One JSON object per event on stdout."_s}});
        if (!parser.parse(arguments)) {
            printLine(stderr, u"atelier-worker farm-host: "_s + parser.errorText());
            return 2;
        }
        const bool json = parser.isSet(u"json"_s);
        auto fail = [&](const QString& message) { return refuseRun(json, message); };
        const FarmFolder folder(parser.value(u"out"_s));
        const QString run = parser.value(u"run"_s);
        FarmManifest manifest;
        if (const QString problem = folder.load(run, &manifest); !problem.isEmpty()) {
            return fail(problem);
        }
        QByteArray token;
        if (const QString problem = folder.readToken(run, &token); !problem.isEmpty()) {
            return fail(problem);
        }
        QString host = ownAddress();
        quint16 port = 0;
        if (parser.isSet(u"listen"_s) && !splitAddress(parser.value(u"listen"_s), &host, &port)) {
            return fail(u"--listen must be HOST:PORT, not \"%1\""_s.arg(parser.value(u"listen"_s)));
        }
        const int leaseMs = std::max(100, parser.value(u"lease-timeout"_s).toInt());
        const int maxAttempts = std::max(1, parser.value(u"max-attempts"_s).toInt());
        QString error;
        quint16 bound = 0;
        const int fd = listenOn(host, port, &bound, &error);
        if (fd < 0) {
            return fail(error);
        }
        c10d::TCPStoreOptions storeOptions;
        storeOptions.port = bound;
        storeOptions.isServer = true;
        storeOptions.waitWorkers = false;
        storeOptions.masterListenFd = fd;
        storeOptions.timeout = std::chrono::seconds(30);
        const QString connectHost = host == u"0.0.0.0"_s ? u"127.0.0.1"_s : host;
        c10::intrusive_ptr<c10d::TCPStore> store;
        try {
            store = c10::make_intrusive<c10d::TCPStore>(connectHost.toStdString(), storeOptions);
        } catch (const std::exception& e) {
            return fail(
                u"the farm's store did not start: %1"_s.arg(QString::fromLocal8Bit(e.what()).section(u'\n', 0, 0)));
        }
        const FarmKeys keys(run.toStdString());
        store->set(FarmKeys::currentRun(), bytes(run));
        store->set(keys.folder(), bytes(folder.outputDirectory()));
        store->set(keys.leaseMilliseconds(), bytes(QString::number(leaseMs)));
        LeaseKeeper keeper(store, keys, {std::chrono::milliseconds(leaseMs), maxAttempts},
                           [token](const std::string& worker, const std::string& proof) {
                               return FarmFolder::joinProof(token, QString::fromStdString(worker))
                                   == QString::fromStdString(proof);
                           });
        folder.removeLeftovers(manifest);
        const QList<qint64> missing = folder.missing(manifest);
        keeper.publish(std::vector<std::int64_t>(missing.begin(), missing.end()), Clock::now());
        const QString address = u"%1:%2"_s.arg(connectHost).arg(bound);
        for (const QString& problem : {folder.writeAddress(run, address), folder.setCurrentRun(run)}) {
            if (!problem.isEmpty()) {
                return fail(problem);
            }
        }
        const qsizetype madeEarlier = manifest.items.size() - missing.size();
        printLine(stderr,
                  u"farm run %1: %2 of %3 images to make (%4 made earlier) into %5; workers join with "
                  u"`atelier-worker farm --store %6` or `--out %5`"_s.arg(run)
                      .arg(missing.size())
                      .arg(manifest.items.size())
                      .arg(madeEarlier)
                      .arg(folder.outputDirectory(), address));

        BatchDisplay display(json, missing.size());
        QHash<qint64, QString> laneOf; // item -> "node rank device"
        QHash<qint64, QString> lastReason; // item -> why its last render failed
        QHash<qint64, QString> failedFor; // item -> why it failed for good
        bool finishing = false;
        QTimer poll;
        QObject::connect(&poll, &QTimer::timeout, [&] {
            if (finishing) {
                return;
            }
            try {
                for (const std::string& raw : keeper.drainEvents()) {
                    const QJsonObject event = parseEvent(raw);
                    const QString lane
                        = u"%1 %2"_s.arg(event.value(u"node"_s).toString(), event.value(u"device"_s).toString());
                    const QJsonObject where{{u"node"_s, event.value(u"node"_s)},
                                            {u"device"_s, event.value(u"device"_s)}};
                    const qint64 item = event.value(u"item"_s).toInteger(-1);
                    const QString kind = event.value(u"event"_s).toString();
                    display.addLane(lane);
                    if (kind == u"started"_s) {
                        laneOf.insert(item, lane);
                        display.started(item, lane, where);
                    } else if (kind == u"progress"_s) {
                        display.progress(item, lane, where, event.value(u"step"_s).toInt(),
                                         event.value(u"total"_s).toInt(), event.value(u"itps"_s).toDouble());
                    } else if (kind == u"failed"_s) {
                        lastReason.insert(item, event.value(u"reason"_s).toString());
                    } else if (kind == u"worker"_s) {
                        display.workerEvent(lane, where, event.value(u"message"_s).toString());
                    }
                }
                for (const LeaseChange& change : keeper.poll(Clock::now())) {
                    const QString worker = QString::fromStdString(change.worker);
                    switch (change.kind) {
                    case LeaseChange::Kind::Committed:
                        display.finished(change.item, laneOf.value(change.item),
                                         folder.imagePath(manifest.items.at(change.item)));
                        break;
                    case LeaseChange::Kind::Expired:
                    case LeaseChange::Kind::Released: {
                        const QString reason = change.kind == LeaseChange::Kind::Expired
                            ? u"worker %1 went silent"_s.arg(worker)
                            : lastReason.value(change.item, u"worker %1 gave it back"_s.arg(worker));
                        if (change.final) {
                            failedFor.insert(change.item, reason);
                        }
                        display.failed(change.item, reason, !change.final);
                        break;
                    }
                    case LeaseChange::Kind::Admitted:
                        display.workerEvent(worker, {{u"worker"_s, worker}}, u"joined"_s);
                        break;
                    case LeaseChange::Kind::Refused:
                        display.workerEvent(worker, {{u"worker"_s, worker}},
                                            u"refused: it does not hold the run's token"_s);
                        break;
                    case LeaseChange::Kind::Revoked:
                        display.workerEvent(worker, {{u"worker"_s, worker}},
                                            u"never admitted: its claim on item %1 was undone"_s.arg(change.item));
                        break;
                    case LeaseChange::Kind::Reoffered:
                        break;
                    }
                }
            } catch (const std::exception& e) {
                printLine(
                    stderr,
                    u"atelier: the farm's store: %1"_s.arg(QString::fromLocal8Bit(e.what()).section(u'\n', 0, 0)));
            }
            if (keeper.outstanding() == 0 || InterruptGuard::signal() != 0) {
                // The workers see the stop at their next look (a quarter second), then leave; the store lives on
                // a moment for that.
                finishing = true;
                keeper.requestStop();
                QTimer::singleShot(1500, QCoreApplication::instance(), &QCoreApplication::quit);
            }
        });
        poll.start(100);
        if (missing.isEmpty()) {
            keeper.requestStop();
        } else {
            QCoreApplication::exec();
        }
        poll.stop();
        display.end();
        folder.removeLeftovers(manifest);
        const QList<qint64> notMade = folder.missing(manifest);
        const qsizetype made = missing.size() - notMade.size();
        const QString summary = u"%1 of %2 images written to %3 (%4 made earlier); %5 not made"_s.arg(made)
                                    .arg(missing.size())
                                    .arg(folder.outputDirectory())
                                    .arg(madeEarlier)
                                    .arg(notMade.size());
        if (json) {
            printJson({{u"event"_s, u"summary"_s},
                       {u"images"_s, made},
                       {u"prompts"_s, missing.size()},
                       {u"not_made"_s, notMade.size()},
                       {u"interrupted"_s, InterruptGuard::signal() != 0}});
        }
        printLine(stderr, summary);
        for (qint64 item : notMade) {
            printLine(stderr,
                      u"  #%1 \"%2\": %3"_s.arg(item).arg(excerpt(manifest.items.at(item).settings.prompt),
                                                          failedFor.value(item, u"not made"_s)));
        }
        if (InterruptGuard::signal() != 0) {
            return InterruptGuard::exitCode();
        }
        return notMade.isEmpty() ? 0 : 1;
    }

    // ---- a node ---------------------------------------------------------------------------------------------------

    int runFarmNode(const QStringList& arguments)
    {
        const InterruptGuard interrupts;
        QCommandLineParser parser;
        parser.setApplicationDescription(u"Render a farm run's images on this node."_s);
        parser.addHelpOption();
        parser.addPositionalArgument(u"farm"_s, u"The command."_s);
        parser.addOptions(
            {{u"out"_s, u"The shared output folder (the coordinator's address is there)."_s, u"dir"_s},
             {u"store"_s, u"HOST:PORT of the coordinator's store."_s, u"address"_s},
             {u"devices"_s, u"cpu, cuda:0,cuda:1, cpu,cpu … (default: cuda:LOCAL_RANK, or the CPU)."_s, u"list"_s},
             {u"node"_s, u"This node's name in the run's display (default: the host name)."_s, u"name"_s},
             {u"threads"_s, u"CPU threads per worker."_s, u"n"_s, u"0"_s},
             {u"give-up-after"_s, u"Seconds without the store before leaving."_s, u"s"_s, u"600"_s}});
        if (!parser.parse(arguments)) {
            printLine(stderr, u"atelier-worker farm: "_s + parser.errorText());
            return 2;
        }
        auto fail = [](const QString& message, int code = 2) {
            printLine(stderr, u"atelier-worker farm: "_s + message);
            return code;
        };
        if (parser.isSet(u"out"_s) == parser.isSet(u"store"_s)) {
            return fail(u"give --out SHARED_DIR or --store HOST:PORT (one of them)"_s);
        }
        const QString node = parser.value(u"node"_s).isEmpty() ? temporaryHostName() : parser.value(u"node"_s);
        const QString worker = u"%1-%2-%3"_s.arg(node)
                                   .arg(QCoreApplication::applicationPid())
                                   .arg(QRandomGenerator::system()->generate(), 8, 16, QChar(u'0'));
        const int giveUpAfter = std::max(1, parser.value(u"give-up-after"_s).toInt());

        // Where the run is: the folder names the store, or the store names the folder.
        std::optional<FarmFolder> folder;
        QString run;
        auto storeAddress = [&](QString* address) -> QString {
            if (parser.isSet(u"store"_s)) {
                *address = parser.value(u"store"_s);
                return {};
            }
            if (QString problem = folder->currentRun(&run); !problem.isEmpty()) {
                return problem;
            }
            return folder->readAddress(run, address);
        };
        if (parser.isSet(u"out"_s)) {
            folder.emplace(parser.value(u"out"_s));
        }
        c10::intrusive_ptr<c10d::TCPStore> store;
        auto connect = [&](std::chrono::milliseconds timeout) -> QString {
            QString address;
            QString host;
            quint16 port = 0;
            if (QString problem = storeAddress(&address); !problem.isEmpty()) {
                return problem;
            }
            if (!splitAddress(address, &host, &port)) {
                return u"\"%1\" is not HOST:PORT"_s.arg(address);
            }
            try {
                store = connectStore(host, port, timeout);
                if (!folder) {
                    run = text(store->get(FarmKeys::currentRun()));
                    folder.emplace(text(store->get(FarmKeys(run.toStdString()).folder())));
                }
            } catch (const std::exception& e) {
                return u"cannot reach the farm's store at %1: %2"_s.arg(
                    address, QString::fromLocal8Bit(e.what()).section(u'\n', 0, 0));
            }
            return {};
        };
        if (const QString problem = connect(std::chrono::seconds(10)); !problem.isEmpty()) {
            return fail(problem, 3);
        }
        FarmManifest manifest;
        QByteArray token;
        if (const QString problem = folder->load(run, &manifest); !problem.isEmpty()) {
            return fail(problem);
        }
        if (const QString problem = folder->readToken(run, &token); !problem.isEmpty()) {
            return fail(problem);
        }
        const FarmKeys keys(run.toStdString());
        auto lease = std::make_unique<FarmWorkerLease>(store, keys, worker.toStdString());
        const std::string proof = FarmFolder::joinProof(token, worker).toStdString();
        lease->requestJoin(proof);
        for (int waited = 0;; waited += 100) {
            const std::string admission = lease->admission();
            if (admission == "yes") {
                break;
            }
            if (admission == "no" || waited > 30000) {
                return fail(admission == "no" ? u"the coordinator refused this worker"_s
                                              : u"the coordinator did not answer within 30 s"_s,
                            3);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        const int leaseMs = std::max(100, text(store->get(keys.leaseMilliseconds())).toInt());

        QStringList devices = parser.value(u"devices"_s).split(u',', Qt::SkipEmptyParts);
        if (devices.isEmpty()) {
            const QString local = qEnvironmentVariable("LOCAL_RANK", qEnvironmentVariable("SLURM_LOCALID", u"0"_s));
            const int cuda = Engine::cudaDeviceCount();
            devices = {cuda > 0 ? u"cuda:%1"_s.arg(local.toInt() % cuda) : u"cpu"_s};
        }
        CoordinatorOptions options;
        options.workerProgram = QCoreApplication::applicationFilePath();
        options.devices = devices;
        options.modelPath = manifest.model;
        options.loraFolders = manifest.loraFolders;
        options.embeddingFolders = manifest.embeddingFolders;
        options.vaeFolders = manifest.vaeFolders;
        options.outputDirectory = folder->outputDirectory();
        options.threadsPerWorker = parser.value(u"threads"_s).toInt();
        options.keepRunningWhenIdle = true;
        // The farm counts attempts (a failure here gives the item back for another node to try).
        options.maxAttempts = 1;
        Coordinator coordinator(options);

        enum class Link
        {
            Connected,
            Joining,
            Lost
        };
        Link link = Link::Connected;
        QElapsedTimer lostFor;
        int backoffMs = 1000;
        QElapsedTimer sinceAttempt;
        bool stopping = false;
        QSet<qint64> toComplete; // committed while the store was away
        auto itemOf = [&](qint64 jobId) {
            const QList<JobRecord>& jobs = coordinator.jobs();
            return jobId >= 0 && jobId < jobs.size() ? jobs.at(jobId).itemId : -1;
        };
        auto lose = [&](const std::exception& e) {
            if (link != Link::Lost) {
                printLine(stderr,
                          u"atelier-worker farm: lost the store (%1); finishing what runs, reconnecting"_s.arg(
                              QString::fromLocal8Bit(e.what()).section(u'\n', 0, 0)));
                link = Link::Lost;
                lostFor.start();
                sinceAttempt.start();
                backoffMs = 1000;
            }
        };
        auto push = [&](QJsonObject event, int rank) {
            if (link != Link::Connected) {
                return;
            }
            event.insert(u"node"_s, node);
            event.insert(u"device"_s, u"%1 %2"_s.arg(rank).arg(devices.value(rank)));
            try {
                lease->pushEvent(QJsonDocument(event).toJson(QJsonDocument::Compact).toStdString());
            } catch (const std::exception& e) {
                lose(e);
            }
        };
        coordinator.setJobSource(
            [&]() -> std::optional<SourcedJob> {
                if (link != Link::Connected || stopping) {
                    return std::nullopt;
                }
                try {
                    const std::optional<std::int64_t> item = lease->claim([&](std::int64_t index) {
                        return index >= 0 && index < manifest.items.size()
                            && folder->isCommitted(manifest.items.at(index));
                    });
                    if (!item || *item < 0 || *item >= manifest.items.size()) {
                        return std::nullopt;
                    }
                    const FarmItem& planned = manifest.items.at(*item);
                    return SourcedJob{planned.settings, planned.index, 0, folder->imagePath(planned)};
                } catch (const std::exception& e) {
                    lose(e);
                    return std::nullopt;
                }
            },
            [&]() -> qsizetype {
                if (link != Link::Connected || stopping) {
                    return 0;
                }
                try {
                    return qsizetype(store->queueLen(keys.offers()));
                } catch (const std::exception& e) {
                    lose(e);
                    return 0;
                }
            });
        QObject::connect(&coordinator, &Coordinator::jobStarted, [&](qint64 id, int rank) {
            push({{u"event"_s, u"started"_s}, {u"item"_s, itemOf(id)}}, rank);
        });
        QObject::connect(&coordinator, &Coordinator::jobProgress,
                         [&](qint64 id, int rank, int step, int steps, double itps) {
                             push({{u"event"_s, u"progress"_s},
                                   {u"item"_s, itemOf(id)},
                                   {u"step"_s, step},
                                   {u"total"_s, steps},
                                   {u"itps"_s, itps}},
                                  rank);
                         });
        QObject::connect(&coordinator, &Coordinator::jobFinished, [&](qint64 id, const QString&) {
            const qint64 item = itemOf(id);
            if (link != Link::Connected) {
                toComplete.insert(item);
                return;
            }
            try {
                lease->complete(item);
            } catch (const std::exception& e) {
                toComplete.insert(item);
                lose(e);
            }
        });
        QObject::connect(&coordinator, &Coordinator::jobFailed, [&](qint64 id, const QString& reason, bool willRetry) {
            const qint64 item = itemOf(id);
            if (willRetry || link != Link::Connected) {
                return;
            }
            const QList<JobRecord>& jobs = coordinator.jobs();
            push({{u"event"_s, u"failed"_s}, {u"item"_s, item}, {u"reason"_s, reason}}, jobs.at(id).rank);
            try {
                lease->release(item);
            } catch (const std::exception& e) {
                lose(e);
            }
        });
        QObject::connect(&coordinator, &Coordinator::workerEvent, [&](int rank, const QString& message) {
            push({{u"event"_s, u"worker"_s}, {u"message"_s, message}}, std::max(0, rank));
        });
        QObject::connect(&coordinator, &Coordinator::finished, QCoreApplication::instance(), &QCoreApplication::quit);

        auto stopAll = [&] {
            if (!stopping) {
                stopping = true;
                coordinator.stop();
            }
        };
        QTimer renew;
        QObject::connect(&renew, &QTimer::timeout, [&] {
            if (link != Link::Connected) {
                return;
            }
            try {
                const auto held = lease->held();
                for (const auto& [item, beat] : held) {
                    if (!lease->renew(item)) {
                        // Another worker has it now: stop at the next step, commit nothing.
                        coordinator.cancelItem(item);
                    }
                }
            } catch (const std::exception& e) {
                lose(e);
            }
        });
        renew.start(std::max(25, leaseMs / 4));
        QTimer tick;
        QObject::connect(&tick, &QTimer::timeout, [&] {
            if (InterruptGuard::signal() != 0) {
                stopAll();
                return;
            }
            try {
                if (link == Link::Connected) {
                    if (lease->stopRequested()) {
                        stopAll();
                    } else {
                        coordinator.jobsMayBeWaiting();
                    }
                } else if (link == Link::Joining) {
                    const std::string admission = lease->admission();
                    if (admission == "no") {
                        printLine(stderr, u"atelier-worker farm: the restarted coordinator refused this worker"_s);
                        stopAll();
                    } else if (admission == "yes") {
                        link = Link::Connected;
                        // What still renders here is taken back; what was committed meanwhile is recorded.
                        for (const JobRecord& job : coordinator.jobs()) {
                            if (!isFinal(job.state) && job.itemId >= 0 && !lease->reclaim(job.itemId)) {
                                coordinator.cancelItem(job.itemId);
                            }
                        }
                        for (qint64 item : std::as_const(toComplete)) {
                            lease->complete(item);
                        }
                        toComplete.clear();
                        printLine(stderr, u"atelier-worker farm: back with the coordinator"_s);
                    }
                } else {
                    if (folder->missing(manifest).isEmpty()) {
                        stopAll(); // every image is there: the run is over
                    } else if (lostFor.elapsed() > giveUpAfter * 1000LL) {
                        printLine(stderr, u"atelier-worker farm: no store for %1 s; leaving"_s.arg(giveUpAfter));
                        stopAll();
                    } else if (sinceAttempt.elapsed() >= backoffMs) {
                        sinceAttempt.restart();
                        backoffMs = std::min(backoffMs * 2, 30000);
                        if (connect(std::chrono::seconds(2)).isEmpty()) {
                            lease = std::make_unique<FarmWorkerLease>(store, keys, worker.toStdString());
                            lease->requestJoin(proof);
                            link = Link::Joining;
                        }
                    }
                }
            } catch (const std::exception& e) {
                lose(e);
            }
        });
        tick.start(250);
        if (const QString problem = coordinator.start(); !problem.isEmpty()) {
            return fail(problem);
        }
        QCoreApplication::exec();
        if (InterruptGuard::signal() != 0) {
            return InterruptGuard::exitCode();
        }
        return link == Link::Lost && !folder->missing(manifest).isEmpty() ? 3 : 0;
    }
} // namespace Atelier::Worker
