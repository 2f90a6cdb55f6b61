// sweet_async/receiver/detail/event_source.hpp: the receiver's read end of the channel.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_EVENT_SOURCE_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_EVENT_SOURCE_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER_IN(experimental, awaitable_operators)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)

#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/throttle.hpp>
#include <sweet_async/channel/channel.hpp>
#include <sweet_async/channel/detail/downstream_gate.hpp>

namespace sweet_async::detail {

/// Where a receiver takes its events from: the channel's read end, which
/// numbers the events itself. The arrival index is counted here, not by the
/// producers: a send that failed after the channel claimed its place (a
/// throwing copy) leaves no gap that arrival-order release would wait on.
///
/// While the task's `gate` is blocked (an outbox waits for room in the next
/// stage), nothing is received: waiting for events drains the outboxes
/// first, so backpressure reaches this task's producers. Under a `throttle`,
/// an event is received only with a token of its bucket: waiting for events
/// waits for the next token too, and what waits its turn stays in the
/// channel, where producers feel it as backpressure.
///
/// Used on the consumer strand only.
template <class Event>
class event_source {
public:
    using event_type = Event;

    /// Reads `channel`, holding at `gate` if there is one, at the pace of
    /// `limit` if there is one; waits with timers on `strand` (the consumer's).
    event_source(channel<Event>& channel, asio::any_io_executor strand,
                 downstream_gate* gate = nullptr, const std::optional<throttle>& limit = {})
        : channel_(channel),
          strand_(std::move(strand)),
          gate_(gate) {
        if (limit) {
            bucket_.emplace(*limit, std::chrono::steady_clock::now());
            pacer_ = std::make_shared<pacer>(strand_);
        }
    }

    /// What must hear the task's stop requests, when the source has a
    /// throttle: from `immediate` on, events are received at once (what is
    /// left ends cancelled without waiting its turn). Null otherwise.
    std::shared_ptr<detail::stop_listener> pacing() const { return pacer_; }

    /// The next event if one is ready (the gate open, and the throttle's
    /// token there), its `sequence()` set to its arrival index; never suspends.
    std::optional<Event> try_receive() {
        if (!may_receive()) return std::nullopt;
        return channel_.try_receive(
            [this](Event& e) noexcept { event_access::set_sequence(e, received_++); });
    }

    /// `try_receive()` as one of a run of receives that `end_run()` ends:
    /// the run shares one fence of the channel's waiter handshake.
    std::optional<Event> try_receive_in_run() {
        if (!may_receive()) return std::nullopt;
        unfenced_ = true;
        return channel_.try_receive_in_run(
            [this](Event& e) noexcept { event_access::set_sequence(e, received_++); });
    }

    /// Ends a run of `try_receive_in_run`; before anything that may wait.
    void end_run() {
        if (std::exchange(unfenced_, false)) channel_.fence_receives();
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
        if (channel_.ready() && bucket_) co_await wait_for_token(bucket_->next_token());
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
            error_code wait_result;
            error_code timer_result;
            // Whichever finishes first cancels the other (the channel's wait
            // supports per-operation cancellation); either way we re-check.
            co_await (channel_.async_wait_readable(
                          asio::redirect_error(asio::use_awaitable, wait_result)) ||
                      timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_result)));
        }
        if (!channel_.ready()) co_return false;
        if (!bucket_) co_return true;
        co_await wait_for_token(std::min(bucket_->next_token(), deadline));
        co_return std::chrono::steady_clock::now() >= bucket_->next_token();
    }

    /// True once the stream has ended and every event was received.
    bool ended() const noexcept { return channel_.drained(); }

    /// True while the gate holds receiving (an outbox waits for room).
    bool held_at_gate() const noexcept { return gate_ != nullptr && gate_->blocked(); }

    /// How many events are waiting to be received (a snapshot).
    std::size_t queued() const noexcept { return channel_.queued(); }

    /// Ends the stream for producers: what they still send is refused.
    void close() { channel_.close(); }

    /// Receives regardless of the gate and the throttle from now on: for
    /// cancelling what is left, which sends nothing downstream and should not
    /// wait its turn.
    void receive_freely() noexcept {
        gate_ = nullptr;
        bucket_.reset();
    }

private:
    /// The gate is open and, under a throttle, a ready event has its token
    /// (taken now: it is received next).
    bool may_receive() {
        if (gate_ != nullptr && gate_->blocked()) return false;
        if (!bucket_ || pacer_->stopped) return true;
        // Only for an event that is there: a token is not spent on nothing.
        return channel_.ready() && bucket_->try_take(std::chrono::steady_clock::now());
    }

    /// Under a throttle: waits on a timer until `when`, if that is still to
    /// come, or until the task must stop.
    asio::awaitable<void> wait_for_token(std::chrono::steady_clock::time_point when) {
        if (pacer_->stopped || std::chrono::steady_clock::now() >= when) co_return;
        pacer_->timer.expires_at(when);
        error_code interrupted;  // a stop: the caller re-checks
        co_await pacer_->timer.async_wait(asio::redirect_error(asio::use_awaitable, interrupted));
    }

    /// The throttle's timer, which a stop request cuts short. Consumer strand.
    struct pacer final : detail::stop_listener {
        explicit pacer(const asio::any_io_executor& strand) : timer(strand) {}
        void stop_requested(stop_request request) override {
            if (request < stop_request::immediate) return;
            stopped = true;
            timer.cancel();
        }
        asio::steady_timer timer;
        bool stopped = false;
    };

    channel<Event>& channel_;
    asio::any_io_executor strand_;
    std::uint64_t received_ = 0;          // the next event's arrival index
    bool unfenced_ = false;               // a run of receives has not been fenced
    downstream_gate* gate_;               // the consumer's, which outlives this source
    std::optional<token_bucket> bucket_;  // the throttle's, if the task has one
    std::shared_ptr<pacer> pacer_;        // with the bucket
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_EVENT_SOURCE_HPP
