// sweet_async/channel/channel.hpp: the bounded awaitable channel between producers and the
// consumer.
#ifndef SWEET_ASYNC_CHANNEL_CHANNEL_HPP
#define SWEET_ASYNC_CHANNEL_CHANNEL_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include <fmt/format.h>

#include <sweet_async/base/error.hpp>
#include <sweet_async/base/overflow_policy.hpp>
#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/channel/detail/bounded_queue.hpp>
#include <sweet_async/channel/detail/overflow_area.hpp>
#include <sweet_async/channel/detail/parked_waiters.hpp>
#include <sweet_async/channel/detail/waiter.hpp>

namespace sweet_async {

/// Whether a send leaves the channel open or makes its element the last.
enum class send_mode {
    keep_open,    ///< An ordinary send; more may follow.
    close_after,  ///< The element is the last: the channel closes as it is enqueued.
};

/// How an event of `type` is sent: a final event is the stream's last.
constexpr send_mode send_mode_for(streaming_event_type type) noexcept {
    return is_final(type) ? send_mode::close_after : send_mode::keep_open;
}

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
/// signature `void(error_code)`; their completions run on the handler's
/// associated executor (by default the channel's).
template <class T>
class channel {
public:
    using value_type = T;                         ///< The element type.
    using executor_type = asio::any_io_executor;  ///< The type of `get_executor()`.

    /// The capacity used when none is given.
    static constexpr std::size_t default_capacity = 100;

    /// The largest capacity a channel of `T` can address. A capacity below it can still be
    /// more than the machine's memory holds.
    static constexpr std::size_t max_capacity() noexcept {
        return detail::bounded_queue<T>::max_capacity();
    }

    /// A channel holding at most `capacity` elements. Its ring is allocated here, all at once.
    /// Throws `async_task_exception` (`invalid_configuration`) when `capacity` is 0, above
    /// `max_capacity()`, or needs more memory than can be allocated.
    explicit channel(executor_type executor, std::size_t capacity = default_capacity) try
        : executor_(std::move(executor)),
          queue_(checked_capacity(capacity)),
          wake_room_(std::max<std::size_t>(1, capacity / 4)) {
    } catch (const std::bad_alloc&) {
        throw async_task_exception(
            async_task_error::invalid_configuration,
            fmt::format("capacity {} needs {} bytes for the channel's ring, which could not be "
                        "allocated",
                        capacity, detail::bounded_queue<T>::ring_bytes(capacity)));
    }

    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    /// The executor completions run on when the handler has none of its own.
    executor_type get_executor() const noexcept { return executor_; }
    /// The most elements the channel holds at once, as given at construction.
    std::size_t capacity() const noexcept { return queue_.capacity(); }

    /// Makes sends into the full channel follow `policy` (`wait` by
    /// default): `reject` fails every send form with `full` at once instead
    /// of waiting; `drop_newest` and `drop_oldest` accept the element and
    /// drop one (see `overflow_policy`), handing each dropped element to
    /// `dropped` on the thread that drops it (a producer's or the
    /// consumer's; it must not throw). A closing element (`close_after`) is
    /// never dropped: under `drop_newest` it waits for room. Before the
    /// first send.
    void set_overflow(overflow_policy policy, std::function<void(T&&)> dropped = {}) {
        policy_ = policy;
        area_.reset();
        if (drops(policy)) {
            area_ = std::make_unique<detail::overflow_area<T>>(policy, queue_.capacity(),
                                                               std::move(dropped));
        }
    }

    /// What a send into the full channel does.
    overflow_policy overflow() const noexcept { return policy_; }

    // ----- producers ---------------------------------------------------------

    /// Enqueues `value` without suspending. Returns an empty error code on
    /// success, `async_task_error::full` when no slot is free or
    /// `async_task_error::closed` after `close()`; on failure `value` is left
    /// as it was.
    error_code try_send(T&& value) {
        return try_send_with([&value]() -> T&& { return std::move(value); });
    }

    /// Like `try_send`, but the element is made by `make()` only once a slot
    /// is secured, so nothing is built for a send that fails. With
    /// `send_mode::close_after`, the element is the channel's last: the slot
    /// is claimed and the channel closed in one atomic step.
    template <class Make>
    error_code try_send_with(Make&& make, send_mode mode = send_mode::keep_open) {
        return try_send_as<detail::handshake::each>(std::forward<Make>(make), mode);
    }

    /// `try_send_with(make)` as one of a run of sends by this thread, which
    /// the thread ends with `fence_sends()` before it waits or blocks: the
    /// run shares one fence. Until then a consumer parking right now may not
    /// have been woken for these elements.
    template <class Make>
    error_code try_send_in_run(Make&& make) {
        return try_send_as<detail::handshake::deferred>(std::forward<Make>(make),
                                                        send_mode::keep_open);
    }

    /// Slots claimed together for a run of sends by one producer (see `try_claim`).
    using claim = typename detail::bounded_queue<T>::claim;

    /// Claims up to `most` free slots in one step, for a run of sends that
    /// `send_claimed` fills in order and `fence_sends` ends (giving up what
    /// is left): the run pays one locked instruction for its slots and one
    /// fence for its wake-ups. None when the channel is full or closed; a
    /// close after the claim still lets its slots be filled and received.
    claim try_claim(std::size_t most) {
        // Elements waiting aside go first: a claim would overtake them.
        if (area_ && area_->holding()) return {};
        return queue_.try_claim(most);
    }

    /// Sends `make()` into the next slot of `c` (not empty), as one of a run
    /// of sends (see `try_send_in_run`).
    template <class Make>
    void send_claimed(claim& c, Make&& make) {
        try {
            queue_.template fill<detail::handshake::deferred>(c, std::forward<Make>(make));
        } catch (...) {
            published<detail::handshake::each>(false);  // the hole, as in try_send_as
            throw;
        }
        published<detail::handshake::deferred>(false);
    }

    /// Ends a run of sends: the slots of `c` left unfilled become holes the
    /// consumer skips, and the consumer is woken if it parked without seeing
    /// the run's elements.
    void fence_sends(claim& c) {
        queue_.give_up(c);
        fence_sends();
    }

    /// Ends a run of `try_send_in_run`: wakes the consumer if it parked
    /// without seeing them.
    void fence_sends() {
        queue_.fence();
        // After the fence: either the parking consumer's re-check sees the
        // run's elements, or this sees its flag (see park_consumer).
        if (waiters_.consumer_waiting(std::memory_order_relaxed)) waiters_.wake_consumer();
    }

    /// Enqueues `value`, suspending while the channel is full. Completes with
    /// an empty error code, or `async_task_error::closed` if the channel was
    /// or became closed first (the value is then dropped). Supports
    /// per-operation cancellation while it waits for room: it then completes
    /// with `operation_aborted` and the value is dropped.
    ///
    /// The operation keeps work only on the handler's associated executor,
    /// not on the channel's: a sender on another execution context can still
    /// complete (with `closed`) after the channel's context was destroyed.
    template <class CompletionToken>
    auto async_send(T value, CompletionToken&& token) {
        return async_send(std::move(value), send_mode::keep_open,
                          std::forward<CompletionToken>(token));
    }

    /// `async_send` with a `send_mode`.
    template <class CompletionToken>
    auto async_send(T value, send_mode mode, CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(error_code)>(
            [this](auto handler, T value, send_mode mode) {
                error_code ec = try_send_with([&value]() -> T&& { return std::move(value); }, mode);
                if (ec == async_task_error::full && policy_ != overflow_policy::reject) {
                    park_producer(send_operation<decltype(handler)>{this, std::move(value), mode,
                                                                    std::move(handler)});
                } else {
                    detail::post_completion(std::move(handler), executor_, ec);
                }
            },
            token, std::move(value), mode);
    }

    /// Accepts nothing more. Elements already sent stay receivable; parked
    /// senders complete with `closed`. Idempotent, callable from any thread.
    void close() {
        if (!queue_.close()) return;
        waiters_.wake_consumer();
        waiters_.wake_all_producers();
    }

    /// True once `close()`, `abandon()` or a `close_after` send has closed the channel
    /// (elements may still be waiting to be received). Any thread.
    bool is_closed() const noexcept { return queue_.closed(); }

    /// For a task whose execution context is being destroyed: closes the
    /// channel, completes every parked operation now (the consumer's too:
    /// handlers of the dying context are posted to it, and Asio destroys them
    /// unrun), and returns only once every completion that another thread
    /// started is over. Afterwards no thread is still posting a handler it
    /// took from this channel, so the context can be destroyed. Any thread.
    void abandon() {
        queue_.close();
        // Unlike close(), even when someone else closed the channel first:
        // whatever is still parked goes now.
        waiters_.wake_consumer();
        waiters_.wake_all_producers();
        waiters_.wait_for_completions();
    }

    // ----- the consumer --------------------------------------------------------

    /// Dequeues the oldest element without suspending, if one is there.
    std::optional<T> try_receive() { return try_receive(detail::leave_as_is{}); }

    /// Like `try_receive()`, calling `prepare(element)` before the element
    /// leaves the channel (to number it, say, without moving it again).
    template <class Prepare>
    std::optional<T> try_receive(Prepare&& prepare) {
        return receive_as<detail::handshake::each>(std::forward<Prepare>(prepare));
    }

    /// `try_receive(prepare)` as one of a run of receives, which the consumer
    /// ends with `fence_receives()` before it waits or blocks: the run shares
    /// one fence. Until then a producer parking right now may not have been
    /// woken for the room made.
    template <class Prepare>
    std::optional<T> try_receive_in_run(Prepare&& prepare) {
        return receive_as<detail::handshake::deferred>(std::forward<Prepare>(prepare));
    }

    /// Ends a run of `try_receive_in_run`: wakes parked producers that did
    /// not see the room made.
    void fence_receives() {
        queue_.fence();
        // After the fence: either the parking producer's re-check sees the
        // freed slots, or this sees its count (see park_producer).
        if (waiters_.producers_waiting(std::memory_order_relaxed) != 0) wake_producers_for_room();
    }

    /// Parked producers are woken once `wake_room()` slots are free, as many
    /// as there are free slots: a full channel then costs one round of
    /// wake-ups per batch of freed slots, not a cross-thread wake-up per
    /// slot, and the producers woken together refill it through the fast
    /// path. Never more than a quarter of the capacity, so that a channel
    /// that drains (the consumer about to wait) has always woken them.
    std::size_t wake_room() const noexcept { return wake_room_; }

    /// Completes when an element may be ready or the channel is drained.
    /// Only the single consumer may wait. Supports per-operation
    /// cancellation (completes with `operation_aborted`).
    template <class CompletionToken>
    auto async_wait_readable(CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(error_code)>(
            [this](auto handler) { this->park_consumer(std::move(handler)); }, token);
    }

    /// True when `try_receive` would find an element now.
    bool ready() const noexcept {
        // What waits aside is received once the ring is empty, a slot being written included
        // (see overflow_area::receive).
        return queue_.ready() || (area_ && area_->holding() && queue_.queued() == 0);
    }

    /// True once the channel is closed and every element was received.
    bool drained() const {
        // The area's mutex orders its sends with the close (see overflow_area).
        return area_ ? area_->drained(queue_) : queue_.drained();
    }

    /// How many elements were ever accepted (dropped ones too).
    std::size_t sent() const noexcept { return queue_.pushed() + (area_ ? area_->accepted() : 0); }
    /// How many elements wait to be received (a snapshot; consumer side).
    std::size_t queued() const noexcept { return queue_.queued() + (area_ ? area_->waiting() : 0); }

private:
    // The send and receive protocols, defined in impl/channel.hpp.

    template <detail::handshake H, class Make>
    error_code try_send_as(Make&& make, send_mode mode);
    /// A send the overflow area takes (see `overflow_area::accept`).
    template <class Make>
    error_code send_aside(Make&& make, bool closing);
    /// After a slot was published (an element, or the hole of a send whose
    /// element could not be made): wakes whoever must see it.
    template <detail::handshake H>
    void published(bool closing);
    template <detail::handshake H, class Prepare>
    std::optional<T> receive_as(Prepare&& prepare);
    template <detail::handshake H, class Prepare>
    std::optional<T> pop_ring(Prepare&& prepare);
    static std::size_t checked_capacity(std::size_t capacity);

    /// A send waiting for room: parked as a producer waiter, it runs on the
    /// handler's executor when woken, tries again and parks again while the
    /// channel is full. Unlike `asio::async_compose`, it keeps no work on
    /// the channel's executor (see `async_send`).
    template <class Handler>
    struct send_operation;

    template <class Handler>
    void park_consumer(Handler handler);
    template <class Handler>
    void park_producer(Handler handler);
    /// Consumer side, after a slot was freed with producers parked (see `wake_room`).
    void wake_producers_for_room();

    executor_type executor_;
    detail::bounded_queue<T> queue_;
    const std::size_t wake_room_;  // see wake_room()
    overflow_policy policy_ = overflow_policy::wait;
    std::unique_ptr<detail::overflow_area<T>> area_;  // for the dropping policies only

    detail::parked_waiters waiters_;
};

}  // namespace sweet_async

#include <sweet_async/channel/impl/channel.hpp>

#endif  // SWEET_ASYNC_CHANNEL_CHANNEL_HPP
