// sweet_async/channel.hpp: the bounded awaitable channel between producers and the consumer.
#ifndef SWEET_ASYNC_CHANNEL_HPP
#define SWEET_ASYNC_CHANNEL_HPP

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/compose.hpp>
#include <asio/post.hpp>
#include <fmt/format.h>

#include <sweet_async/config.hpp>
#include <sweet_async/detail/bounded_queue.hpp>
#include <sweet_async/detail/waiter.hpp>
#include <sweet_async/error.hpp>

namespace sweet_async {

/// Whether a send leaves the channel open or makes its element the last.
enum class send_mode { keep_open, close_after };

/// A bounded FIFO channel for many producers (on any thread) and one consumer.
///
/// Sending and receiving are lock-free while the channel is neither full nor
/// empty: `try_send` and `try_receive` never suspend, and the suspending
/// operations first try the same fast path. A mutex guards only the lists of
/// parked operations, so it is taken when an operation has to suspend or wake
/// a parked one, never per element on a flowing stream, and never held across
/// a suspension.
///
/// Asynchronous operations follow Asio's completion-token model with the
/// signature `void(std::error_code)`; their completions run on the handler's
/// associated executor (by default the channel's).
template <class T>
class channel {
public:
    using value_type = T;
    using executor_type = asio::any_io_executor;

    /// The capacity used when none is given.
    static constexpr std::size_t default_capacity = 100;

    /// A channel holding at most `capacity` elements. Throws
    /// `async_task_exception` (`invalid_configuration`) when `capacity` is 0.
    explicit channel(executor_type executor, std::size_t capacity = default_capacity)
        : executor_(std::move(executor)),
          queue_(checked_capacity(capacity)) {}

    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    executor_type get_executor() const noexcept { return executor_; }
    std::size_t capacity() const noexcept { return queue_.capacity(); }

    // ----- producers ---------------------------------------------------------

    /// Enqueues `value` without suspending. Returns an empty error code on
    /// success, `async_task_error::full` when no slot is free or
    /// `async_task_error::closed` after `close()`; on failure `value` is left
    /// as it was.
    std::error_code try_send(T&& value) {
        return try_send_with([&value]() -> T&& { return std::move(value); });
    }

    /// Like `try_send`, but the element is made by `make()` only once a slot
    /// is secured, so nothing is built for a send that fails. With
    /// `send_mode::close_after`, the element is the channel's last: the slot
    /// is claimed and the channel closed in one atomic step.
    template <class Make>
    std::error_code try_send_with(Make&& make, send_mode mode = send_mode::keep_open) {
        const bool closing = mode == send_mode::close_after;
        switch (queue_.try_push_with(std::forward<Make>(make), closing)) {
        case detail::push_result::pushed:
            if (closing) {
                wake_consumer();
                wake_all_producers();
            } else if (consumer_waiting_.load(std::memory_order_seq_cst)) {
                // Pairs with the flag store in park_consumer: either the
                // consumer sees the element or we see that it sleeps.
                wake_consumer();
            }
            return {};
        case detail::push_result::full: return make_error_code(async_task_error::full);
        case detail::push_result::closed: break;
        }
        return make_error_code(async_task_error::closed);
    }

    /// Enqueues `value`, suspending while the channel is full. Completes with
    /// an empty error code, or `async_task_error::closed` if the channel was
    /// or became closed first (the value is then dropped).
    template <class CompletionToken>
    auto async_send(T value, CompletionToken&& token) {
        return async_send(std::move(value), send_mode::keep_open,
                          std::forward<CompletionToken>(token));
    }

    /// `async_send` with a `send_mode`.
    template <class CompletionToken>
    auto async_send(T value, send_mode mode, CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code)>(
            send_operation{this, std::move(value), mode}, token, executor_);
    }

    /// Completes when a slot may be free or the channel is closed. The caller
    /// retries `try_send`; another producer may have taken the slot. Supports
    /// per-operation cancellation (completes with `operation_aborted`).
    template <class CompletionToken>
    auto async_wait_writable(CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(std::error_code)>(
            [this](auto handler) { this->park_producer(std::move(handler)); }, token);
    }

    /// Accepts nothing more. Elements already sent stay receivable; parked
    /// senders complete with `closed`. Idempotent, callable from any thread.
    void close() {
        if (!queue_.close()) return;
        wake_consumer();
        wake_all_producers();
    }

    bool is_closed() const noexcept { return queue_.closed(); }

    // ----- the consumer --------------------------------------------------------

    /// Dequeues the oldest element without suspending, if one is there. When
    /// `arrival` is given it receives the element's 0-based arrival index
    /// (how many elements were accepted before it).
    std::optional<T> try_receive(std::size_t* arrival = nullptr) {
        std::optional<T> value = queue_.try_pop(arrival);
        // Pairs with the count increment in park_producer.
        if (value && producers_waiting_.load(std::memory_order_seq_cst) != 0) wake_one_producer();
        return value;
    }

    /// Completes when an element may be ready or the channel is drained.
    /// Only the single consumer may wait. Supports per-operation
    /// cancellation (completes with `operation_aborted`).
    template <class CompletionToken>
    auto async_wait_readable(CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(std::error_code)>(
            [this](auto handler) { this->park_consumer(std::move(handler)); }, token);
    }

    /// True when `try_receive` would find an element now.
    bool ready() const noexcept { return queue_.ready(); }

    /// True once the channel is closed and every element was received.
    bool drained() const noexcept { return queue_.drained(); }

    /// How many elements were ever accepted.
    std::size_t sent() const noexcept { return queue_.pushed(); }

private:
    static std::size_t checked_capacity(std::size_t capacity) {
        if (capacity == 0) {
            throw async_task_exception(async_task_error::invalid_configuration,
                                       "capacity must be at least 1, got 0");
        }
        return capacity;
    }

    struct send_operation {
        channel* owner;
        T value;
        send_mode mode;
        enum class stage { starting, waiting, completing } current = stage::starting;
        std::error_code result{};

        template <class Self>
        void operator()(Self& self, std::error_code = {}) {
            if (current == stage::completing) {
                self.complete(result);
                return;
            }
            result = owner->try_send_with([this]() -> T&& { return std::move(value); }, mode);
            if (result != async_task_error::full) {
                if (current == stage::starting) {
                    // A handler may not run inside its initiating function.
                    current = stage::completing;
                    asio::post(owner->executor_, std::move(self));
                } else {
                    self.complete(result);
                }
                return;
            }
            current = stage::waiting;
            owner->async_wait_writable(std::move(self));
        }
    };

    template <class Handler>
    void park_consumer(Handler handler) {
        auto parked = detail::make_waiter(std::move(handler), executor_, [this](detail::waiter* w) {
            wake_consumer(w, detail::operation_aborted());
        });
        const detail::waiter* self = parked.get();
        {
            std::lock_guard lock(mutex_);
            consumer_waiter_ = std::move(parked);
            consumer_waiting_.store(true, std::memory_order_seq_cst);
        }
        // Re-check after publishing the flag: a producer that published before
        // it saw no waiter, so the element (or the end) must be visible here.
        if (queue_.ready() || queue_.drained()) wake_consumer(self);
    }

    template <class Handler>
    void park_producer(Handler handler) {
        auto parked = detail::make_waiter(std::move(handler), executor_, [this](detail::waiter* w) {
            wake_producer(w, detail::operation_aborted());
        });
        const detail::waiter* self = parked.get();
        {
            std::lock_guard lock(mutex_);
            producer_waiters_.push_back(std::move(parked));
            producers_waiting_.fetch_add(1, std::memory_order_seq_cst);
        }
        if (!queue_.full() || queue_.closed()) wake_producer(self);
    }

    /// Wakes the parked consumer; with `which`, only if it is that waiter.
    void wake_consumer(const detail::waiter* which = nullptr, std::error_code ec = {}) {
        std::unique_ptr<detail::waiter> woken;
        {
            std::lock_guard lock(mutex_);
            if (!consumer_waiter_ || (which && consumer_waiter_.get() != which)) return;
            woken = std::move(consumer_waiter_);
            consumer_waiting_.store(false, std::memory_order_relaxed);
        }
        woken->complete(ec);
    }

    void wake_one_producer() {
        std::unique_ptr<detail::waiter> woken;
        {
            std::lock_guard lock(mutex_);
            if (producer_waiters_.empty()) return;
            woken = std::move(producer_waiters_.front());
            producer_waiters_.pop_front();
            producers_waiting_.fetch_sub(1, std::memory_order_relaxed);
        }
        woken->complete({});
    }

    /// Wakes the given parked producer if it is still parked.
    void wake_producer(const detail::waiter* which, std::error_code ec = {}) {
        std::unique_ptr<detail::waiter> woken;
        {
            std::lock_guard lock(mutex_);
            auto it = std::find_if(producer_waiters_.begin(), producer_waiters_.end(),
                                   [which](const auto& parked) { return parked.get() == which; });
            if (it == producer_waiters_.end()) return;
            woken = std::move(*it);
            producer_waiters_.erase(it);
            producers_waiting_.fetch_sub(1, std::memory_order_relaxed);
        }
        woken->complete(ec);
    }

    void wake_all_producers() {
        std::deque<std::unique_ptr<detail::waiter>> woken;
        {
            std::lock_guard lock(mutex_);
            woken.swap(producer_waiters_);
            producers_waiting_.store(0, std::memory_order_relaxed);
        }
        for (auto& parked : woken)
            parked->complete({});
    }

    executor_type executor_;
    detail::bounded_queue<T> queue_;

    std::mutex mutex_;  // guards the parked waiters below, nothing else
    std::unique_ptr<detail::waiter> consumer_waiter_;
    std::deque<std::unique_ptr<detail::waiter>> producer_waiters_;
    std::atomic<bool> consumer_waiting_{false};
    std::atomic<std::size_t> producers_waiting_{0};
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_CHANNEL_HPP
