// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <c10/util/intrusive_ptr.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace c10d
{
    class Store;
}

namespace Atelier::Farm
{
    /// The farm's clock. Every decision about time takes a `now`, so tests drive the lease logic with a clock of
    /// their own; leases are judged on the coordinator's clock alone, so the nodes' clocks need not agree.
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    /// The store keys of one farm run. Each carries the run's random id, so that two runs that meet in one store (a
    /// coordinator restarted on the same port, a stray worker of an earlier run) never touch each other's keys.
    class FarmKeys
    {
    public:
        explicit FarmKeys(std::string run);
        const std::string& run() const { return m_run; }
        std::string offers() const; ///< queue: ids of items waiting for a worker, oldest first
        std::string lease(std::int64_t item) const; ///< one item's Lease
        std::string joins() const; ///< queue: "WORKER PROOF" of workers asking to be let in
        std::string admitted(const std::string& worker) const; ///< "yes" or "no", once the coordinator decided
        std::string events() const; ///< queue: the workers' news (opaque to the lease logic)
        std::string stop() const; ///< present once the run is over: workers finish their image and leave
        std::string folder() const; ///< the shared output folder, as the coordinator sees it
        std::string leaseMilliseconds() const; ///< the lease timeout, so workers renew well within it
        /// Which run the store serves now, for workers given only the store's address.
        static std::string currentRun();

    private:
        std::string m_prefix;
        std::string m_run;
    };

    /// An item's lease, as kept under FarmKeys::lease(). Free → Held (one worker's claim, its beat counting the
    /// worker's renewals) → Done (its image is committed in the shared folder) or Released (the worker gave it back
    /// after a failure) → Free again, or Failed once it used its attempts. Done and Failed are final.
    struct Lease
    {
        enum class State
        {
            Free,
            Held,
            Released,
            Done,
            Failed
        };
        State state = State::Free;
        std::string worker; ///< Held, Released, Done: whose ("-" for an image found already committed)
        std::int64_t beat = 0; ///< Held: renewals so far

        std::string encode() const;
        /// The lease @p bytes hold, or nothing for bytes no part of Atelier writes.
        static std::optional<Lease> decode(const std::vector<std::uint8_t>& bytes);
        friend bool operator==(const Lease&, const Lease&) = default;
    };

    /// What the coordinator's LeaseKeeper saw happen to an item or a worker in one poll().
    struct LeaseChange
    {
        enum class Kind
        {
            Committed, ///< the item's image is in the folder (by `worker`; "-": found there already)
            Expired, ///< `worker` stopped renewing: the item is offered again (or failed, see `final`)
            Released, ///< `worker` gave the item back after a failure: offered again (or failed)
            Revoked, ///< `worker` was never admitted: its claim is undone and the item offered again
            Reoffered, ///< a worker took the item's offer and vanished before claiming it: offered again
            Admitted, ///< `worker` proved it holds the run's token
            Refused ///< `worker` did not
        };
        Kind kind;
        std::int64_t item = -1; ///< -1 for Admitted and Refused
        std::string worker;
        bool final = false; ///< Expired/Released: that was the item's last attempt, it is now Failed
    };

    /// The coordinator's side of the leases: offers the items, admits workers that prove they hold the run's
    /// token, and keeps every item moving. An item whose lease stops changing for `leaseTimeout` (a worker that
    /// died, stalled or lost the store) is taken back and offered again; an item whose offer was taken by a worker
    /// that vanished before claiming it is offered again after the same time; an item given back or lost
    /// `maxAttempts` times is Failed. Only the keeper offers, so an item is never in the offer queue twice, and
    /// never out of it while Free for longer than `leaseTimeout`.
    class LeaseKeeper
    {
    public:
        struct Options
        {
            std::chrono::milliseconds leaseTimeout{15000};
            int maxAttempts = 3;
        };
        /// @p verifyJoin says whether a worker's proof (FarmWorkerLease::requestJoin()) shows it holds the token.
        LeaseKeeper(c10::intrusive_ptr<c10d::Store> store, FarmKeys keys, Options options,
                    std::function<bool(const std::string& worker, const std::string& proof)> verifyJoin);

        /// Writes a Free lease for each of @p items (those of the run not committed yet) and offers them in order.
        /// A restarted coordinator calls it with what the shared folder still lacks.
        void publish(const std::vector<std::int64_t>& items, TimePoint now);
        /// Admits or refuses the workers that asked, then looks at every unfinished lease (one multiGet per 4096)
        /// and acts on what changed. Returns what happened, in order.
        std::vector<LeaseChange> poll(TimePoint now);
        /// The workers' news since the last call, oldest first.
        std::vector<std::string> drainEvents();
        /// Tells the workers the run is over.
        void requestStop();

        /// Items neither committed nor failed.
        std::size_t outstanding() const { return m_items.size(); }
        const std::set<std::string>& admittedWorkers() const { return m_admitted; }

    private:
        struct Watch
        {
            std::string value; ///< the lease as last read
            TimePoint since; ///< when it last changed (the coordinator's clock)
            int attempts = 0;
            std::int64_t offerPosition = -1; ///< its place in the offer queue's history, while offered
            std::optional<TimePoint> offerTakenSince; ///< when the keeper first saw its offer taken but it Free
        };
        void offer(std::int64_t item, Watch& watch, TimePoint now);
        /// Takes an item back from @p seen to Free (or Failed when @p counts uses its last attempt). False when the
        /// lease moved meanwhile (then the next poll sees the new value).
        bool takeBack(std::int64_t item, Watch& watch, const std::string& seen, bool counts, TimePoint now,
                      LeaseChange& change);

        c10::intrusive_ptr<c10d::Store> m_store;
        FarmKeys m_keys;
        Options m_options;
        std::function<bool(const std::string&, const std::string&)> m_verifyJoin;
        std::map<std::int64_t, Watch> m_items;
        std::set<std::string> m_admitted;
        std::int64_t m_offered = 0; ///< offers ever pushed in this store
    };

    /// A worker's side of the leases. Not thread-safe: a worker's render and heartbeat threads share one under a
    /// lock.
    class FarmWorkerLease
    {
    public:
        /// @p worker: this worker's id, unique in the run (no spaces).
        FarmWorkerLease(c10::intrusive_ptr<c10d::Store> store, FarmKeys keys, std::string worker);

        const std::string& worker() const { return m_worker; }
        /// Asks to be let in; @p proof shows the run's token without revealing it (an HMAC the app computes).
        void requestJoin(const std::string& proof);
        /// "yes", "no", or "" while the coordinator has not decided.
        std::string admission();
        /// Takes the next offered item: skips offers whose lease is no longer Free, and marks Done those whose image
        /// @p committed already finds in the folder (nothing is rendered after its image exists). Nothing when no
        /// offer waits.
        std::optional<std::int64_t> claim(const std::function<bool(std::int64_t)>& committed);
        /// Renews the lease on @p item; false once it is no longer this worker's (it expired, or another took it):
        /// then the worker stops rendering it and must not commit it. Throws c10::DistNetworkError when the store
        /// cannot be reached (the lease is not lost by that alone).
        bool renew(std::int64_t item);
        /// Whether @p item's lease is still this worker's (checked before committing).
        bool holds(std::int64_t item);
        /// Gives @p item back after a failed attempt.
        void release(std::int64_t item);
        /// Records that @p item's image is committed (by this worker, or found committed): Done, whoever held it.
        void complete(std::int64_t item);
        /// Adopts a lease this worker held in an earlier store (the coordinator restarted): true when the item was
        /// still Free here and is now held again.
        bool reclaim(std::int64_t item);
        void pushEvent(const std::string& event);
        bool stopRequested();
        /// The items this worker holds, with their beats.
        const std::map<std::int64_t, std::int64_t>& held() const { return m_beats; }

    private:
        bool claimFree(std::int64_t item);

        c10::intrusive_ptr<c10d::Store> m_store;
        FarmKeys m_keys;
        std::string m_worker;
        std::map<std::int64_t, std::int64_t> m_beats;
    };
} // namespace Atelier::Farm
