// sweet_async/channel/detail/overflow_area.hpp: where a full channel's dropping policies do their
// work.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_OVERFLOW_AREA_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_OVERFLOW_AREA_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include <sweet_async/base/overflow_policy.hpp>
#include <sweet_async/channel/detail/bounded_queue.hpp>

namespace sweet_async::detail {

/// The slow path of a channel whose sends never wait (`drop_newest`,
/// `drop_oldest`): a send that finds the ring full comes here.
///
/// `drop_newest` drops the new element at once. `drop_oldest` keeps it here,
/// after the ring's elements (which are all older), and drops the oldest of
/// what waits here once it holds a capacity's worth; the consumer drops the
/// ring's oldest as it receives, so that at most a capacity's worth is ever
/// handed out of what was waiting, the freshest, in order. While elements
/// wait here, sends come here too, so each producer's elements stay in its
/// order; the ring is used again once the consumer has taken them all. So a
/// channel under this policy holds at most twice its capacity.
///
/// Every step here happens under one mutex, with the channel's closed flag
/// checked inside it: an element is either refused (closed) or accepted (and
/// then received or dropped), and a consumer that takes the mutex after the
/// channel closed sees every element accepted before, and every drop.
template <class T>
class overflow_area {
public:
    /// For a channel of `capacity`; `dropped` hears every dropped element, on
    /// the thread that drops it, under the area's mutex (it must not throw);
    /// none: dropped elements are destroyed.
    overflow_area(overflow_policy policy, std::size_t capacity, std::function<void(T&&)> dropped)
        : policy_(policy),
          capacity_(capacity),
          dropped_(dropped ? std::move(dropped) : [](T&&) noexcept {}) {}

    overflow_area(const overflow_area&) = delete;
    overflow_area& operator=(const overflow_area&) = delete;

    overflow_policy policy() const noexcept { return policy_; }

    /// True while elements wait here: sends and receives must come here.
    /// Sequentially consistent: part of the consumer's waiter handshake, as
    /// the ring's publishing stores are.
    bool holding() const noexcept { return waiting_.load(std::memory_order_seq_cst) != 0; }

    /// Elements accepted here (dropped at once, or waiting, or received since).
    std::size_t accepted() const noexcept { return accepted_.load(std::memory_order_relaxed); }

    /// Elements waiting here.
    std::size_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }

    /// A send that found `ring` full, or this area holding: accepts `make()`
    /// under the policy (`closing`: the element is the channel's last, which
    /// then closes `ring`). False when the channel is closed (`make` not called).
    template <class Make>
    bool accept(Make&& make, bool closing, bounded_queue<T>& ring) {
        std::lock_guard lock(mutex_);
        if (ring.closed()) return false;
        if (policy_ == overflow_policy::drop_newest) {
            T element(std::forward<Make>(make)());
            accepted_.fetch_add(1, std::memory_order_relaxed);
            dropped_(std::move(element));
            return true;
        }
        items_.emplace_back(std::forward<Make>(make)());
        accepted_.fetch_add(1, std::memory_order_relaxed);
        if (items_.size() > capacity_) {
            dropped_(std::move(items_.front()));
            items_.pop_front();
        }
        // seq_cst: before the sender reads the consumer's waiting flag.
        waiting_.store(items_.size(), std::memory_order_seq_cst);
        if (closing) ring.close();
        return true;
    }

    /// The consumer's receive while elements wait here: drops the ring's
    /// oldest beyond a capacity's worth, then hands out the ring's next
    /// element (`pop_ring()`), or else, once the ring is empty (no slot
    /// being written either), the oldest waiting here, after `prepare(element)`.
    template <class PopRing, class Prepare>
    std::optional<T> receive(bounded_queue<T>& ring, PopRing&& pop_ring, Prepare&& prepare) {
        std::lock_guard lock(mutex_);
        // Only what is ready in the ring is dropped: a position still being
        // written is not, and the channel briefly holds a little more.
        for (std::size_t total = ring.queued() + items_.size(); total > capacity_; --total) {
            std::optional<T> oldest = ring.try_pop();
            if (!oldest) break;
            dropped_(std::move(*oldest));
        }
        if (std::optional<T> element = pop_ring()) return element;
        // A slot of the ring still being written holds older elements behind it (a producer's
        // element sent there before its next came here): nothing aside goes first. The
        // writer's publish wakes the consumer.
        if (items_.empty() || ring.queued() != 0) return std::nullopt;
        prepare(items_.front());
        std::optional<T> element(std::in_place, std::move(items_.front()));
        items_.pop_front();
        waiting_.store(items_.size(), std::memory_order_seq_cst);
        return element;
    }

    /// True when the channel is closed, the ring empty and nothing waits
    /// here: taken under the mutex, so that a send accepted before the close
    /// is seen. Consumer only.
    bool drained(const bounded_queue<T>& ring) {
        std::lock_guard lock(mutex_);
        return items_.empty() && ring.drained();
    }

private:
    const overflow_policy policy_;
    const std::size_t capacity_;
    const std::function<void(T&&)> dropped_;
    std::mutex mutex_;  // guards items_, and orders every acceptance with the close
    std::deque<T> items_;
    std::atomic<std::size_t> waiting_{0};   // items_.size(), for the checks without the mutex
    std::atomic<std::size_t> accepted_{0};  // only grows
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_OVERFLOW_AREA_HPP
