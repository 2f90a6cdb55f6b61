// sweet_async/channel/detail/dropped_events.hpp: the events an overflow policy dropped, from any
// thread.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_DROPPED_EVENTS_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_DROPPED_EVENTS_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include <sweet_async/base/uuid.hpp>

namespace sweet_async::detail {

/// The events the channel's overflow policy dropped, on whatever thread
/// dropped them: counted at once (live stats), their ids kept up to the
/// task's error retention for the ledger to record when the task ends.
class dropped_events {
public:
    explicit dropped_events(std::size_t kept) : kept_(kept) {}

    /// Thread-safe.
    void add(const uuid& id) {
        count.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(mutex_);
        if (ids_.size() < kept_) {
            ids_.push_back(id);
        } else {
            ++not_kept_;
        }
    }

    /// The ids kept so far and how many were not kept; the ids are
    /// handed over once. Thread-safe.
    std::pair<std::vector<uuid>, std::size_t> take() {
        std::lock_guard lock(mutex_);
        return {std::exchange(ids_, {}), std::exchange(not_kept_, 0)};
    }

    /// Events dropped so far. Relaxed: a live count, exact once the consumer
    /// has seen the channel's end (under the overflow area's mutex, which
    /// every drop happens under).
    std::atomic<std::size_t> count{0};

private:
    const std::size_t kept_;
    std::mutex mutex_;
    std::vector<uuid> ids_;
    std::size_t not_kept_ = 0;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_DROPPED_EVENTS_HPP
