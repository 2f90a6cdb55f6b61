// sweet_async/channel/detail/outbox.hpp: values handed to another task's channel, waiting for room.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_OUTBOX_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_OUTBOX_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(bind_cancellation_slot)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_signal)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_type)
#include SWEET_ASYNC_ASIO_HEADER(error)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)

#include <sweet_async/base/detail/asio_compat.hpp>
#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/channel/channel.hpp>
#include <sweet_async/channel/detail/downstream_gate.hpp>
#include <sweet_async/channel/detail/task_inlet.hpp>

namespace sweet_async::detail {

/// What an outbox did with the values handed to it: every one is either
/// delivered into the target's channel or counted as not delivered (the
/// target had closed, or the task had to stop while it waited for room).
struct delivery_counts {
    std::size_t delivered = 0;
    std::size_t undelivered = 0;
    bool final_delivered = false;  ///< The held final value went as the target's final event.
};

/// The part of an outbox its task's consumer manages, whatever it carries.
class outbox_base : public outlet, public stop_listener {
public:
    /// Holds the task's receiving at `gate` whenever the target is full.
    /// Consumer strand, once, before the first value.
    void attach(downstream_gate& gate) noexcept { gate_ = &gate; }

    /// From `immediate` on, values still waiting for room are not delivered:
    /// a parked send is interrupted, and what waits behind it is counted.
    void stop_requested(stop_request request) override {
        if (request < stop_request::immediate) return;
        stopped_ = true;
        interrupt_.emit(asio::cancellation_type::terminal);
    }

    /// Delivers what waits (see `drain`), then, for the target this task
    /// feeds, ends the target's stream: with the held final value as its
    /// final event, or by closing it. Called once, when the task ends.
    virtual asio::awaitable<void> finish() = 0;

    /// Values pushed from now until `end_run` go into the target's channel
    /// as one run of sends, which shares a fence (see `channel::try_send_in_run`)
    /// and, for an outbox given every result of the task, the claim of its
    /// slots: up to `expected`, the events the run may process.
    void begin_run(std::size_t expected) noexcept {
        in_run_ = true;
        expected_ = every_result_ ? expected : 0;
    }

    /// Ends the run: gives up the slots claimed and not filled, and wakes the
    /// target's consumer if it parked without seeing the run's values. Before
    /// the task's consumer waits or blocks.
    void end_run() {
        in_run_ = false;
        if (std::exchange(unfenced_, false)) fence_sends();
    }

protected:
    /// `every_result`: each result of the task comes here (one next stage, or
    /// broadcast), so a run's results can claim their slots ahead.
    explicit outbox_base(bool every_result) noexcept : every_result_(every_result) {}

    virtual void fence_sends() = 0;

    downstream_gate* gate_ = nullptr;
    bool stopped_ = false;
    const bool every_result_;
    bool in_run_ = false;
    bool unfenced_ = false;     // values were sent in this run
    std::size_t expected_ = 0;  // results still to come in this run, at most
    // Emitted on the consumer strand (where the listener is told), where the
    // parked send's handler runs.
    asio::cancellation_signal interrupt_;
};

/// A bounded hand-off of values `U` into the channel of another task,
/// through its inlet. A value is sent without
/// suspending while the target has room; when it is full, the value waits
/// here and the task's receiving stops at the gate until the wait is over,
/// so what waits is bounded by the task's work in flight. A value may come
/// with the id its event had here, which its event there keeps (a result
/// stays one event through a flow); without one it gets a fresh id.
/// Consumer strand only.
template <class U, class Id>
class outbox final : public outbox_base {
public:
    /// `feeds_target`: this task is one of the target's feeders, and the
    /// last of them to end ends the target's stream. Counted from now: a
    /// link is made when its task starts, before any of its events flow.
    /// `every_result`: see `outbox_base`.
    outbox(std::shared_ptr<task_inlet<U, Id>> target, bool feeds_target, bool every_result = false)
        : outbox_base(every_result),
          target_(std::move(target)),
          feeds_target_(feeds_target) {
        if (feeds_target_) target_->join();
    }

    outbox(const outbox&) = delete;
    outbox& operator=(const outbox&) = delete;

    /// A feeder that never got to finish (its context was destroyed) still
    /// lets the other feeders end the target.
    ~outbox() override {
        if (feeds_target_ && !finished_) leave_target();
    }

    /// Hands `value` on, now or once the target has room, as the event `id`.
    void push(U&& value, std::optional<uuid> id = std::nullopt) {
        if (pending_.empty()) {
            if (closed_ || stopped_) {
                ++counts_.undelivered;
                return;
            }
            auto& channel = target_->channel();
            // The factory runs only once the channel has a place for the event:
            // on failure `value` is untouched.
            const auto make = [&] {
                return make_event(std::move(value), streaming_event_type::continuing, id);
            };
            error_code ec;
            if (in_run_) {
                unfenced_ = true;
                if (claim_.empty() && expected_ > 1) claim_ = channel.try_claim(expected_);
                if (expected_ != 0) --expected_;
                if (!claim_.empty()) {
                    channel.send_claimed(claim_, make);
                    ++counts_.delivered;
                    return;
                }
                ec = channel.try_send_in_run(make);
            } else {
                ec = channel.try_send_with(make, send_mode::keep_open);
            }
            if (!ec) {
                ++counts_.delivered;
                return;
            }
            if (ec != async_task_error::full) {
                closed_ = true;
                ++counts_.undelivered;
                return;
            }
        }
        pending_.push_back(waiting{std::move(value), id});
        if (gate_ != nullptr) gate_->block(*this);
    }

    /// Keeps `value` to be sent as the target's final event (the event `id`)
    /// when this task ends: results of earlier events may still be in flight,
    /// and nothing can follow a final event.
    void hold_final(U&& value, std::optional<uuid> id = std::nullopt) {
        final_.emplace(waiting{std::move(value), id});
    }

    asio::awaitable<void> drain() override {
        while (!pending_.empty()) {
            if (closed_ || stopped_) {
                counts_.undelivered += pending_.size();
                pending_.clear();
                break;
            }
            co_await send_front();
        }
        if (gate_ != nullptr) gate_->unblock(*this);
    }

    /// The held final value goes last; it is the target's final event only
    /// when this is the target's last feeder to end (fan-in: the others'
    /// finals are ordinary events there). The last feeder without one
    /// closes the target.
    asio::awaitable<void> finish() override {
        if (final_ && !feeds_target_) pending_.push_back(std::move(*std::exchange(final_, {})));
        co_await drain();
        if (!feeds_target_) co_return;
        finished_ = true;
        const bool last = leave_target();
        if (final_ && !last) {
            pending_.push_back(std::move(*std::exchange(final_, {})));
            co_await drain();
        } else if (final_) {
            if (closed_ || stopped_) {
                ++counts_.undelivered;
            } else {
                const error_code ec =
                    co_await send(std::move(*final_), streaming_event_type::final);
                count(ec);
                counts_.final_delivered = !ec;
            }
            final_.reset();
        }
        if (last) target_->channel().close();  // after a final event: already closed, a no-op
    }

    /// What happened to the values so far (all of them, once `finish` returned).
    const delivery_counts& counts() const noexcept { return counts_; }

private:
    void fence_sends() override { target_->channel().fence_sends(claim_); }

    /// Sends the oldest waiting value, waiting for room.
    asio::awaitable<void> send_front() {
        // A cancelled coroutine would throw before the send starts, after
        // the value moved into it: look first, and leave the value here.
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) {
            throw system_error(asio::error::operation_aborted);
        }
        const error_code ec =
            co_await send(std::move(pending_.front()), streaming_event_type::continuing);
        pending_.pop_front();
        count(ec);
        if (ec && ec != asio::error::operation_aborted) closed_ = true;
    }

    /// A value and the id its event keeps (none: a fresh one).
    struct waiting {
        U value;
        std::optional<uuid> id;
    };

    auto make_event(U&& value, streaming_event_type type, const std::optional<uuid>& id) const {
        return id ? target_->make_event(std::move(value), type, *id)
                  : target_->make_event(std::move(value), type);
    }

    /// Sends `w` as an event of `type`, waiting for room; interrupted by a stop.
    asio::awaitable<error_code> send(waiting&& w, streaming_event_type type) {
        auto [ec] = co_await target_->channel().async_send(
            make_event(std::move(w.value), type, w.id), send_mode_for(type),
            asio::bind_cancellation_slot(interrupt_.slot(), as_tuple(asio::use_awaitable)));
        co_return ec;
    }

    void count(const error_code& ec) noexcept {
        if (ec) {
            ++counts_.undelivered;
        } else {
            ++counts_.delivered;
        }
    }

    /// This feeder has ended; true when it was the target's last.
    bool leave_target() noexcept { return target_->leave(); }

    std::shared_ptr<task_inlet<U, Id>> target_;
    // Slots of the target claimed for the current run and not filled yet.
    typename channel<event<U, Id>>::claim claim_;
    const bool feeds_target_;
    bool finished_ = false;
    std::deque<waiting> pending_;
    std::optional<waiting> final_;
    bool closed_ = false;  // the target refused a value: it accepts none any more
    delivery_counts counts_;
};

/// The outboxes of one task and the gate they hold its receiving at. Owned
/// by the task's consumer; consumer strand only.
class outbox_set {
public:
    /// Where the event source asks whether it may receive.
    downstream_gate& gate() noexcept { return gate_; }

    /// Manages `box` from now on: holds receiving while it waits for room,
    /// and hears `state`'s stop requests (one made already included).
    template <class State>
    void add(const std::shared_ptr<outbox_base>& box, State& state) {
        if (!box) return;
        box->attach(gate_);
        state.listen_for_stop(box);
        if (state.stopping()) box->stop_requested(stop_request::immediate);
        boxes_.push_back(box);
    }

    /// Values pushed from now until `end_run` go as one run of sends per
    /// target, for up to `expected` events (see `outbox_base::begin_run`).
    void begin_run(std::size_t expected) noexcept {
        for (const auto& box : boxes_)
            box->begin_run(expected);
    }

    /// Ends the run begun last; before the task's consumer waits or blocks.
    void end_run() {
        for (const auto& box : boxes_)
            box->end_run();
    }

    /// Finishes every outbox (see `outbox_base::finish`), once the task's
    /// last outcome is recorded.
    asio::awaitable<void> finish() {
        for (const auto& box : boxes_)
            co_await box->finish();
    }

private:
    downstream_gate gate_;
    std::vector<std::shared_ptr<outbox_base>> boxes_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_OUTBOX_HPP
