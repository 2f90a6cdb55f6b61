// sweet_async/detail/event_source.hpp: the receiver's read end of the channel.
#ifndef SWEET_ASYNC_DETAIL_EVENT_SOURCE_HPP
#define SWEET_ASYNC_DETAIL_EVENT_SOURCE_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <sweet_async/channel.hpp>
#include <sweet_async/detail/downstream_gate.hpp>
#include <sweet_async/event.hpp>

namespace sweet_async::detail {

/// Where a receiver takes its events from: the channel's read end, which
/// numbers the events itself. The arrival index is counted here, not by the
/// producers: a send that failed after the channel claimed its place (a
/// throwing copy) leaves no gap that arrival-order release would wait on.
///
/// While the task's `gate` is blocked (an outbox waits for room in the next
/// stage), nothing is received: waiting for events drains the outboxes
/// first, so backpressure reaches this task's producers.
///
/// Used on the consumer strand only.
template <class Event>
class event_source {
public:
    using event_type = Event;

    /// Reads `channel`, holding at `gate` if there is one; waits with timers
    /// on `strand` (the consumer's).
    event_source(channel<Event>& channel, asio::any_io_executor strand,
                 downstream_gate* gate = nullptr)
        : channel_(channel),
          strand_(std::move(strand)),
          gate_(gate) {}

    /// The next event if one is ready (and the gate open), its `sequence()`
    /// set to its arrival index; never suspends.
    std::optional<Event> try_receive() {
        if (gate_ != nullptr && gate_->blocked()) return std::nullopt;
        return channel_.try_receive(
            [this](Event& e) noexcept { event_access::set_sequence(e, received_++); });
    }

    /// `try_receive()` as one of a run of receives that `settle()` ends:
    /// the run shares one fence of the channel's waiter handshake.
    std::optional<Event> try_receive_in_run() {
        if (gate_ != nullptr && gate_->blocked()) return std::nullopt;
        unsettled_ = true;
        return channel_.try_receive_in_run(
            [this](Event& e) noexcept { event_access::set_sequence(e, received_++); });
    }

    /// Ends a run of `try_receive_in_run`; before anything that may wait.
    void settle() {
        if (std::exchange(unsettled_, false)) channel_.settle_receives();
    }

    /// Suspends until an event may be ready (true) or the stream has ended and
    /// every event was received (false). May return true spuriously.
    asio::awaitable<bool> wait_for_events() {
        if (gate_ != nullptr && gate_->blocked()) {
            co_await gate_->drain();
            co_return true;
        }
        if (!channel_.ready() && !channel_.drained()) {
            co_await channel_.async_wait_readable(asio::use_awaitable);
        }
        co_return channel_.ready() || !channel_.drained();
    }

    /// Like `wait_for_events`, but gives up at `deadline`: true when an event
    /// may be ready, false when the deadline passed or the stream ended (tell
    /// them apart with `ended()`).
    /// A blocked gate is drained first, however long the next stage takes:
    /// the deadline (a batch's window) cannot send anything meanwhile.
    asio::awaitable<bool> wait_for_events_until(std::chrono::steady_clock::time_point deadline) {
        if (gate_ != nullptr && gate_->blocked()) {
            co_await gate_->drain();
            co_return channel_.ready();
        }
        if (!channel_.ready() && !channel_.drained() &&
            std::chrono::steady_clock::now() < deadline) {
            using namespace asio::experimental::awaitable_operators;
            asio::steady_timer timer(strand_, deadline);
            std::error_code wait_result;
            std::error_code timer_result;
            // Whichever finishes first cancels the other (the channel's wait
            // supports per-operation cancellation); either way we re-check.
            co_await (channel_.async_wait_readable(
                          asio::redirect_error(asio::use_awaitable, wait_result)) ||
                      timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_result)));
        }
        co_return channel_.ready();
    }

    /// True once the stream has ended and every event was received.
    bool ended() const noexcept { return channel_.drained(); }

    /// True while the gate holds receiving (an outbox waits for room).
    bool held_at_gate() const noexcept { return gate_ != nullptr && gate_->blocked(); }

    /// How many events are waiting to be received (a snapshot).
    std::size_t queued() const noexcept { return channel_.queued(); }

    /// Ends the stream for producers: what they still send is refused.
    void close() { channel_.close(); }

    /// Receives regardless of the gate from now on: for cancelling what is
    /// left, which sends nothing downstream.
    void ignore_gate() noexcept { gate_ = nullptr; }

private:
    channel<Event>& channel_;
    asio::any_io_executor strand_;
    std::uint64_t received_ = 0;  // the next event's arrival index
    bool unsettled_ = false;      // a run of receives has not been settled
    downstream_gate* gate_;       // the consumer's, which outlives this source
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_EVENT_SOURCE_HPP
