// sweet_async/receiver/detail/outcome_counts.hpp: the live count of each outcome of a task's
// events.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_OUTCOME_COUNTS_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_OUTCOME_COUNTS_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>

#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/task_stats.hpp>

namespace sweet_async::detail {

/// How many events ended each way, and how many retries were made. Outcomes
/// are written by one thread at a time (the consumer strand's ledger, or the
/// task's abandonment once no consumer runs any more); retries by whichever
/// thread runs the attempt. Read by any thread for live stats.
class outcome_counts {
public:
    /// Counts one event that ended `kind`.
    void add(outcome kind) noexcept { add(kind, 1); }

    /// Counts `n` events that ended `kind`. One writer at a time: a relaxed
    /// load and store, so the flowing path pays no locked read-modify-write.
    void add(outcome kind, std::size_t n) noexcept {
        auto& c = counter(kind);
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    /// Counts an attempt beyond an event's first. Attempts of offloaded
    /// processors run on other threads at once: a real read-modify-write.
    void add_retry() noexcept { retries_.fetch_add(1, std::memory_order_relaxed); }

    /// Counts an event's dead letter handed to the dead-letter target (the
    /// ledger's writer only).
    void add_dead_letter() noexcept {
        dead_lettered_.store(dead_lettered_.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
    }

    /// The counts into `s` (everything but `sent` and `elapsed`).
    void read_into(task_stats& s) const noexcept {
        // Relaxed: live stats are a snapshot, each count exact but not taken
        // at one instant; the final ones are read after the task's end
        // published them.
        s.processed = processed_.load(std::memory_order_relaxed);
        s.failed = failed_.load(std::memory_order_relaxed);
        s.timed_out = timed_out_.load(std::memory_order_relaxed);
        s.cancelled = cancelled_.load(std::memory_order_relaxed);
        s.retries = retries_.load(std::memory_order_relaxed);
        s.dead_lettered = dead_lettered_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::size_t>& counter(outcome kind) noexcept {
        switch (kind) {
        case outcome::processed: return processed_;
        case outcome::failed: return failed_;
        case outcome::timed_out: return timed_out_;
        case outcome::cancelled: break;
        case outcome::dropped:
            // Dropped events are counted where the channel drops them, on the
            // producer's thread (see dropped_events), never by the ledger.
            assert(false && "outcome_counts does not count dropped events");
            break;
        }
        return cancelled_;
    }

    std::atomic<std::size_t> processed_{0};
    std::atomic<std::size_t> failed_{0};
    std::atomic<std::size_t> timed_out_{0};
    std::atomic<std::size_t> cancelled_{0};
    std::atomic<std::size_t> retries_{0};
    std::atomic<std::size_t> dead_lettered_{0};
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_OUTCOME_COUNTS_HPP
