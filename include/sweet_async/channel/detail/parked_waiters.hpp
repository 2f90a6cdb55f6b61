// sweet_async/channel/detail/parked_waiters.hpp: the operations parked on a channel.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_PARKED_WAITERS_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_PARKED_WAITERS_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <sweet_async/channel/detail/waiter.hpp>

namespace sweet_async::detail {

/// The operations parked on a channel: its one consumer's wait for an
/// element, and the producers' sends waiting for room. The slow path of the
/// channel, whatever it carries: the waiters are type-erased (`waiter`), so
/// this is compiled once however many channel types a file has.
///
/// The flags that say someone is parked are read without the lock by the
/// channel's fast paths: a parking side publishes its flag (sequentially
/// consistent) and then re-checks the channel, while the other side
/// publishes its element or freed slot and then reads the flag, so that one
/// of the two always sees the other (see `channel`).
class parked_waiters {
public:
    /// Parks the consumer's `parked` wait; the caller re-checks the channel
    /// afterwards and wakes it if it may proceed.
    void park_consumer(std::unique_ptr<waiter> parked) {
        std::lock_guard lock(mutex_);
        consumer_waiter_ = std::move(parked);
        consumer_waiting_.store(true, std::memory_order_seq_cst);
    }

    /// Parks a producer's `parked` send; the caller re-checks the channel
    /// afterwards and wakes it if it may proceed.
    void park_producer(std::unique_ptr<waiter> parked) {
        std::lock_guard lock(mutex_);
        producer_waiters_.push_back(std::move(parked));
        producers_waiting_.fetch_add(1, std::memory_order_seq_cst);
    }

    /// Whether the consumer is parked (`order`: see the class comment).
    bool consumer_waiting(std::memory_order order) const noexcept {
        return consumer_waiting_.load(order);
    }
    /// How many producers are parked (`order`: see the class comment).
    std::size_t producers_waiting(std::memory_order order) const noexcept {
        return producers_waiting_.load(order);
    }

    /// Wakes the parked consumer; with `which`, only if it is that waiter.
    void wake_consumer(const waiter* which = nullptr, error_code ec = {}) {
        std::unique_ptr<waiter> woken;
        {
            std::lock_guard lock(mutex_);
            if (!consumer_waiter_ || (which && consumer_waiter_.get() != which)) return;
            woken = std::move(consumer_waiter_);
            consumer_waiting_.store(false, std::memory_order_relaxed);
            completing_.fetch_add(1, std::memory_order_relaxed);
        }
        complete_taken(std::move(woken), ec);
    }

    /// Wakes up to `most` parked producers, the longest parked first.
    void wake_producers(std::size_t most) {
        std::deque<std::unique_ptr<waiter>> woken;
        {
            std::lock_guard lock(mutex_);
            const std::size_t n = std::min(most, producer_waiters_.size());
            for (std::size_t i = 0; i < n; ++i) {
                woken.push_back(std::move(producer_waiters_.front()));
                producer_waiters_.pop_front();
            }
            producers_waiting_.fetch_sub(n, std::memory_order_relaxed);
            completing_.fetch_add(n, std::memory_order_relaxed);
        }
        for (auto& parked : woken)
            complete_taken(std::move(parked), {});
    }

    /// Wakes the given parked producer if it is still parked.
    void wake_producer(const waiter* which, error_code ec = {}) {
        std::unique_ptr<waiter> woken;
        {
            std::lock_guard lock(mutex_);
            auto it = std::find_if(producer_waiters_.begin(), producer_waiters_.end(),
                                   [which](const auto& parked) { return parked.get() == which; });
            if (it == producer_waiters_.end()) return;
            woken = std::move(*it);
            producer_waiters_.erase(it);
            producers_waiting_.fetch_sub(1, std::memory_order_relaxed);
            completing_.fetch_add(1, std::memory_order_relaxed);
        }
        complete_taken(std::move(woken), ec);
    }

    /// Wakes every parked producer.
    void wake_all_producers() {
        std::deque<std::unique_ptr<waiter>> woken;
        {
            std::lock_guard lock(mutex_);
            woken.swap(producer_waiters_);
            producers_waiting_.store(0, std::memory_order_relaxed);
            completing_.fetch_add(woken.size(), std::memory_order_relaxed);
        }
        for (auto& parked : woken)
            complete_taken(std::move(parked), {});
    }

    /// Returns once every completion that another thread started is over.
    /// A waker that took a waiter counted it under the mutex, so it is seen
    /// here; its completion (a post) is short and never waits for us.
    void wait_for_completions() const {
        // Acquire pairs with the release in complete_taken.
        while (completing_.load(std::memory_order_acquire) != 0)
            std::this_thread::yield();
    }

private:
    /// Completes `woken`, taken out of the lists under the mutex (where
    /// `completing_` counted it), destroys it, then uncounts it:
    /// `wait_for_completions` waits for that, even if completing throws.
    void complete_taken(std::unique_ptr<waiter> woken, error_code ec) {
        struct uncount {
            std::atomic<std::size_t>& count;
            std::unique_ptr<waiter>& woken;
            ~uncount() {
                woken.reset();  // the waiter may hold a work guard: gone before it counts as done
                count.fetch_sub(1, std::memory_order_release);
            }
        } guard{completing_, woken};
        woken->complete(ec);
    }

    std::mutex mutex_;  // guards the waiters below, nothing else
    std::unique_ptr<waiter> consumer_waiter_;
    std::deque<std::unique_ptr<waiter>> producer_waiters_;
    std::atomic<bool> consumer_waiting_{false};
    std::atomic<std::size_t> producers_waiting_{0};
    /// Waiters taken out of the lists and not yet completed (slow paths only).
    std::atomic<std::size_t> completing_{0};
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_PARKED_WAITERS_HPP
