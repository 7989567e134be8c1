// SPDX-License-Identifier: GPL-3.0-or-later
#include "FarmLeases.h"

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <algorithm>
#include <charconv>

namespace Atelier::Farm
{
    namespace
    {
        std::vector<std::uint8_t> bytes(const std::string& text)
        {
            return {text.begin(), text.end()};
        }
        std::string text(const std::vector<std::uint8_t>& bytes)
        {
            return {bytes.begin(), bytes.end()};
        }

        std::optional<std::int64_t> parseNumber(std::string_view text)
        {
            std::int64_t value = 0;
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (error != std::errc() || end != text.data() + text.size()) {
                return std::nullopt;
            }
            return value;
        }

        /// Pops one entry of @p queue, or nothing when it is empty (the store throws for that, and another
        /// process may empty it between a length check and the pop).
        std::optional<std::string> popOne(c10d::Store& store, const std::string& queue)
        {
            if (store.queueLen(queue) == 0) {
                return std::nullopt;
            }
            try {
                return text(store.queuePop(queue, /*block=*/false));
            } catch (const c10::DistNetworkError&) {
                throw;
            } catch (const c10::Error&) {
                return std::nullopt;
            }
        }

        constexpr std::size_t MultiGetChunk = 4096;
    } // namespace

    FarmKeys::FarmKeys(std::string run)
        : m_prefix("atelier/farm/" + run + "/")
        , m_run(std::move(run))
    { }

    std::string FarmKeys::offers() const
    {
        return m_prefix + "offers";
    }
    std::string FarmKeys::lease(std::int64_t item) const
    {
        return m_prefix + "lease/" + std::to_string(item);
    }
    std::string FarmKeys::joins() const
    {
        return m_prefix + "joins";
    }
    std::string FarmKeys::admitted(const std::string& worker) const
    {
        return m_prefix + "admitted/" + worker;
    }
    std::string FarmKeys::events() const
    {
        return m_prefix + "events";
    }
    std::string FarmKeys::stop() const
    {
        return m_prefix + "stop";
    }

    std::string FarmKeys::folder() const
    {
        return m_prefix + "folder";
    }

    std::string FarmKeys::leaseMilliseconds() const
    {
        return m_prefix + "lease-ms";
    }

    std::string FarmKeys::currentRun()
    {
        return "atelier/farm/current";
    }

    std::string Lease::encode() const
    {
        switch (state) {
        case State::Free:
            return "free";
        case State::Held:
            return "held " + worker + " " + std::to_string(beat);
        case State::Released:
            return "released " + worker;
        case State::Done:
            return "done " + worker;
        case State::Failed:
            return "failed";
        }
        return "failed";
    }

    std::optional<Lease> Lease::decode(const std::vector<std::uint8_t>& raw)
    {
        const std::string value = text(raw);
        // Split on every space, keeping empty parts, so that "failed " or "held  w 1" are not leases.
        std::vector<std::string_view> parts;
        const std::string_view whole(value);
        for (std::size_t start = 0;;) {
            const std::size_t space = whole.find(' ', start);
            parts.push_back(whole.substr(start, space == std::string_view::npos ? space : space - start));
            if (space == std::string_view::npos) {
                break;
            }
            start = space + 1;
        }
        Lease lease;
        if (parts[0] == "free" && parts.size() == 1) {
            lease.state = State::Free;
        } else if (parts[0] == "failed" && parts.size() == 1) {
            lease.state = State::Failed;
        } else if (parts[0] == "held" && parts.size() == 3) {
            const std::optional<std::int64_t> beat = parseNumber(parts[2]);
            if (!beat) {
                return std::nullopt;
            }
            lease.state = State::Held;
            lease.worker = std::string(parts[1]);
            lease.beat = *beat;
        } else if ((parts[0] == "released" || parts[0] == "done") && parts.size() == 2) {
            lease.state = parts[0] == "done" ? State::Done : State::Released;
            lease.worker = std::string(parts[1]);
        } else {
            return std::nullopt;
        }
        return lease;
    }

    // ---- the coordinator's side ----------------------------------------------------------------------------------

    LeaseKeeper::LeaseKeeper(c10::intrusive_ptr<c10d::Store> store, FarmKeys keys, Options options,
                             std::function<bool(const std::string&, const std::string&)> verifyJoin)
        : m_store(std::move(store))
        , m_keys(std::move(keys))
        , m_options(options)
        , m_verifyJoin(std::move(verifyJoin))
    { }

    void LeaseKeeper::publish(const std::vector<std::int64_t>& items, TimePoint now)
    {
        const std::string free = Lease{}.encode();
        std::vector<std::string> keys;
        std::vector<std::vector<std::uint8_t>> values;
        for (std::int64_t item : items) {
            if (m_items.count(item) != 0) {
                continue;
            }
            keys.push_back(m_keys.lease(item));
            values.push_back(bytes(free));
            if (keys.size() == MultiGetChunk) {
                m_store->multiSet(keys, values);
                keys.clear();
                values.clear();
            }
        }
        if (!keys.empty()) {
            m_store->multiSet(keys, values);
        }
        for (std::int64_t item : items) {
            if (m_items.count(item) != 0) {
                continue;
            }
            Watch& watch = m_items[item];
            watch.value = free;
            watch.since = now;
            offer(item, watch, now);
        }
    }

    void LeaseKeeper::offer(std::int64_t item, Watch& watch, TimePoint now)
    {
        m_store->queuePush(m_keys.offers(), bytes(std::to_string(item)));
        watch.offerPosition = m_offered++;
        watch.offerTakenSince.reset();
        watch.since = now;
    }

    bool LeaseKeeper::takeBack(std::int64_t item, Watch& watch, const std::string& seen, bool counts, TimePoint now,
                               LeaseChange& change)
    {
        const bool last = counts && watch.attempts + 1 >= m_options.maxAttempts;
        const std::string next = last ? Lease{Lease::State::Failed, {}, 0}.encode() : Lease{}.encode();
        const std::string result = text(m_store->compareSet(m_keys.lease(item), bytes(seen), bytes(next)));
        if (result != next) {
            return false;
        }
        if (counts) {
            ++watch.attempts;
        }
        watch.value = next;
        watch.since = now;
        change.final = last;
        if (!last) {
            offer(item, watch, now);
        }
        return true;
    }

    std::vector<LeaseChange> LeaseKeeper::poll(TimePoint now)
    {
        std::vector<LeaseChange> changes;
        while (const std::optional<std::string> join = popOne(*m_store, m_keys.joins())) {
            const std::size_t space = join->find(' ');
            const std::string worker = join->substr(0, space);
            const std::string proof = space == std::string::npos ? std::string() : join->substr(space + 1);
            if (worker.empty()) {
                continue;
            }
            const bool admitted = m_verifyJoin && m_verifyJoin(worker, proof);
            m_store->set(m_keys.admitted(worker), bytes(admitted ? "yes" : "no"));
            if (admitted) {
                m_admitted.insert(worker);
            }
            changes.push_back({admitted ? LeaseChange::Kind::Admitted : LeaseChange::Kind::Refused, -1, worker});
        }

        // Offers are a FIFO: those pushed before the first still queued were all taken.
        const std::int64_t taken = m_offered - m_store->queueLen(m_keys.offers());
        std::vector<std::int64_t> items;
        items.reserve(m_items.size());
        for (const auto& [item, watch] : m_items) {
            items.push_back(item);
        }
        for (std::size_t begin = 0; begin < items.size(); begin += MultiGetChunk) {
            const std::size_t end = std::min(items.size(), begin + MultiGetChunk);
            std::vector<std::string> keys;
            for (std::size_t i = begin; i < end; ++i) {
                keys.push_back(m_keys.lease(items[i]));
            }
            const std::vector<std::vector<std::uint8_t>> values = m_store->multiGet(keys);
            for (std::size_t i = begin; i < end; ++i) {
                const std::int64_t item = items[i];
                Watch& watch = m_items.at(item);
                const std::string value = text(values[i - begin]);
                const std::optional<Lease> lease = Lease::decode(values[i - begin]);
                if (value != watch.value) {
                    watch.value = value;
                    watch.since = now;
                }
                if (!lease) {
                    // Not a value Atelier writes: someone else's doing. Taken back like a silent holder's.
                    LeaseChange change{LeaseChange::Kind::Revoked, item, {}};
                    if (now - watch.since >= m_options.leaseTimeout
                        && takeBack(item, watch, value, false, now, change)) {
                        changes.push_back(change);
                    }
                    continue;
                }
                switch (lease->state) {
                case Lease::State::Done:
                    changes.push_back({LeaseChange::Kind::Committed, item, lease->worker});
                    m_items.erase(item);
                    break;
                case Lease::State::Failed:
                    m_items.erase(item);
                    break;
                case Lease::State::Released: {
                    LeaseChange change{LeaseChange::Kind::Released, item, lease->worker};
                    if (takeBack(item, watch, value, true, now, change)) {
                        changes.push_back(change);
                        if (change.final) {
                            m_items.erase(item);
                        }
                    }
                    break;
                }
                case Lease::State::Held: {
                    watch.offerTakenSince.reset();
                    if (m_admitted.count(lease->worker) == 0) {
                        LeaseChange change{LeaseChange::Kind::Revoked, item, lease->worker};
                        if (takeBack(item, watch, value, false, now, change)) {
                            changes.push_back(change);
                        }
                    } else if (now - watch.since >= m_options.leaseTimeout) {
                        LeaseChange change{LeaseChange::Kind::Expired, item, lease->worker};
                        if (takeBack(item, watch, value, true, now, change)) {
                            changes.push_back(change);
                            if (change.final) {
                                m_items.erase(item);
                            }
                        }
                    }
                    break;
                }
                case Lease::State::Free:
                    if (watch.offerPosition >= 0 && watch.offerPosition < taken) {
                        // Its offer was taken, yet nobody holds it: the taker vanished between the two steps (or
                        // found it held by another and moved on before that one gave it back).
                        if (!watch.offerTakenSince) {
                            watch.offerTakenSince = now;
                        } else if (now - *watch.offerTakenSince >= m_options.leaseTimeout) {
                            offer(item, watch, now);
                            changes.push_back({LeaseChange::Kind::Reoffered, item, {}});
                        }
                    }
                    break;
                }
            }
        }
        return changes;
    }

    std::vector<std::string> LeaseKeeper::drainEvents()
    {
        std::vector<std::string> events;
        while (const std::optional<std::string> event = popOne(*m_store, m_keys.events())) {
            events.push_back(*event);
        }
        return events;
    }

    void LeaseKeeper::requestStop()
    {
        m_store->set(m_keys.stop(), bytes("1"));
    }

    // ---- a worker's side -----------------------------------------------------------------------------------------

    FarmWorkerLease::FarmWorkerLease(c10::intrusive_ptr<c10d::Store> store, FarmKeys keys, std::string worker)
        : m_store(std::move(store))
        , m_keys(std::move(keys))
        , m_worker(std::move(worker))
    { }

    void FarmWorkerLease::requestJoin(const std::string& proof)
    {
        m_store->queuePush(m_keys.joins(), bytes(m_worker + " " + proof));
    }

    std::string FarmWorkerLease::admission()
    {
        const std::string key = m_keys.admitted(m_worker);
        return m_store->check({key}) ? text(m_store->get(key)) : std::string();
    }

    bool FarmWorkerLease::claimFree(std::int64_t item)
    {
        const std::string held = Lease{Lease::State::Held, m_worker, 0}.encode();
        if (text(m_store->compareSet(m_keys.lease(item), bytes(Lease{}.encode()), bytes(held))) != held) {
            return false;
        }
        m_beats[item] = 0;
        return true;
    }

    std::optional<std::int64_t> FarmWorkerLease::claim(const std::function<bool(std::int64_t)>& committed)
    {
        while (const std::optional<std::string> offer = popOne(*m_store, m_keys.offers())) {
            const std::optional<std::int64_t> item = parseNumber(*offer);
            if (!item) {
                continue;
            }
            const std::string key = m_keys.lease(*item);
            if (!m_store->check({key})) {
                continue;
            }
            const std::optional<Lease> lease = Lease::decode(m_store->get(key));
            if (!lease || lease->state != Lease::State::Free) {
                continue;
            }
            if (committed && committed(*item)) {
                // Its image is in the folder (a worker committed it and died before saying so): Done, unrendered.
                m_store->compareSet(key, bytes(Lease{}.encode()), bytes(Lease{Lease::State::Done, "-", 0}.encode()));
                continue;
            }
            if (claimFree(*item)) {
                return item;
            }
        }
        return std::nullopt;
    }

    bool FarmWorkerLease::renew(std::int64_t item)
    {
        const auto it = m_beats.find(item);
        if (it == m_beats.end()) {
            return false;
        }
        const std::string current = Lease{Lease::State::Held, m_worker, it->second}.encode();
        const std::string next = Lease{Lease::State::Held, m_worker, it->second + 1}.encode();
        if (text(m_store->compareSet(m_keys.lease(item), bytes(current), bytes(next))) != next) {
            m_beats.erase(it);
            return false;
        }
        ++it->second;
        return true;
    }

    bool FarmWorkerLease::holds(std::int64_t item)
    {
        const auto it = m_beats.find(item);
        if (it == m_beats.end()) {
            return false;
        }
        const std::optional<Lease> lease = Lease::decode(m_store->get(m_keys.lease(item)));
        if (!lease || *lease != Lease{Lease::State::Held, m_worker, it->second}) {
            m_beats.erase(it);
            return false;
        }
        return true;
    }

    void FarmWorkerLease::release(std::int64_t item)
    {
        const auto it = m_beats.find(item);
        if (it == m_beats.end()) {
            return;
        }
        m_store->compareSet(m_keys.lease(item), bytes(Lease{Lease::State::Held, m_worker, it->second}.encode()),
                            bytes(Lease{Lease::State::Released, m_worker, 0}.encode()));
        m_beats.erase(it);
    }

    void FarmWorkerLease::complete(std::int64_t item)
    {
        // The image is in the folder, and nothing moves a lease out of Done: whoever holds it now, it is Done.
        m_store->set(m_keys.lease(item), bytes(Lease{Lease::State::Done, m_worker, 0}.encode()));
        m_beats.erase(item);
    }

    bool FarmWorkerLease::reclaim(std::int64_t item)
    {
        const std::string key = m_keys.lease(item);
        return m_store->check({key}) && claimFree(item);
    }

    void FarmWorkerLease::pushEvent(const std::string& event)
    {
        m_store->queuePush(m_keys.events(), bytes(event));
    }

    bool FarmWorkerLease::stopRequested()
    {
        return m_store->check({m_keys.stop()});
    }
} // namespace Atelier::Farm
