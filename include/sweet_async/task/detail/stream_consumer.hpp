// sweet_async/task/detail/stream_consumer.hpp: the consumer of a task whose stream processor pulls.
#ifndef SWEET_ASYNC_TASK_DETAIL_STREAM_CONSUMER_HPP
#define SWEET_ASYNC_TASK_DETAIL_STREAM_CONSUMER_HPP

#include <sweet_async/config.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_type)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER(error)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)

#include <sweet_async/base/detail/asio_compat.hpp>
#include <sweet_async/base/detail/detached_owning.hpp>
#include <sweet_async/base/detail/exception_text.hpp>
#include <sweet_async/base/detail/interrupt_registry.hpp>
#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/base/detail/trace.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/receiver/detail/ledger.hpp>
#include <sweet_async/receiver/detail/task_ledger.hpp>
#include <sweet_async/task/detail/consumer.hpp>
#include <sweet_async/task/detail/emitter_plan.hpp>
#include <sweet_async/task/detail/emitting_state.hpp>
#include <sweet_async/task/event_stream.hpp>

namespace sweet_async::detail {

SWEET_ASYNC_DETAIL_BEGIN_ASIO_FRAMES

/// The event stream of one task, recording into the task's ledger. The
/// consumer coroutine owns it; the stream processor sees its `event_stream`
/// base only.
template <class State, class Collector, class R>
class stream_driver final : public event_stream<typename State::event_type::payload_type, R,
                                                typename State::event_type::task_id_type>,
                            private stream_outcomes<typename State::event_type, R> {
    using T = typename State::event_type::payload_type;
    using Id = typename State::event_type::task_id_type;
    using Collection = typename State::result_type::collection_type;
    using base = event_stream<T, R, Id>;

public:
    using event_type = typename State::event_type;

    stream_driver(State& state, Collector collector)
        : base(state.channel(), state.consumer_executor(), state.options, *this),
          state_(state),
          ledger_(task_ledger<Collection>(state, std::move(collector))) {
        for (const auto& box : ledger_.outboxes())
            this->outlets().add(box, state);
        this->outlets().add(state.dead_letter_box(), state);
        if (auto pacer = this->pacing()) {
            state.listen_for_stop(pacer);
            if (state.stopping()) pacer->stop_requested(stop_request::immediate);
        }
    }

    using base::cancel_unpulled;
    using base::settle;

    /// Hands on what waits for the next stage's room and ends the stream of
    /// the task fed, once every outcome is recorded.
    asio::awaitable<void> finish_outlets() { return this->outlets().finish(); }

    /// Hands over everything recorded. Called once, at the end.
    final_result<T, Collection, Id> close(task_status status, task_stats stats,
                                          std::string failure) && {
        return close_task_ledger(std::move(ledger_), state_, status, stats, std::move(failure));
    }

private:
    void processed(event_type&& e, R&& result) override {
        ledger_.processed(std::move(e), std::move(result));
    }
    void processed_without_result(event_type&& e) override {
        ledger_.processed_without_result(std::move(e));
    }
    void unprocessed(event_type&& e, outcome kind, std::string reason, unsigned attempts) override {
        ledger_.unprocessed(std::move(e), kind, std::move(reason), attempts);
    }
    void retrying() noexcept override { state_.counts().add_retry(); }
    bool stopping() const noexcept override { return state_.stopping(); }
    std::string stop_reason() const override { return state_.stop_reason(); }

    State& state_;
    ledger<T, Collection, Id, Collector> ledger_;
};

/// Interrupts the stream processor's coroutine when the task must stop now.
class stream_interrupter final : public stop_listener {
public:
    explicit stream_interrupter(std::shared_ptr<interruptible> entry) : entry_(std::move(entry)) {}

    /// Consumer strand, where the stream processor runs. A graceful stop
    /// lets it finish what is queued.
    void stop_requested(stop_request request) override {
        if (request >= stop_request::immediate && !entry_->ended) {
            entry_->signal.emit(asio::cancellation_type::terminal);
        }
    }

private:
    std::shared_ptr<interruptible> entry_;
    std::shared_ptr<stream_interrupter> interrupter_;
};

/// What a stream processor left behind is recorded as, by how it ended.
struct stream_ending {
    outcome released_kind;
    std::string released_reason;  // pulled, no outcome given
    std::string retry_reason;     // failed, waiting for a retry
    std::string unpulled_reason;  // still in the channel
};

/// The ending when the stream processor threw `failure`, stopped on a stop
/// request (`stop_reason`), or returned (neither).
inline stream_ending ending_for(const std::string& failure, const std::string& stop_reason) {
    if (!failure.empty()) {
        return {outcome::failed, "the stream processor threw: " + failure,
                "the stream processor threw before retrying it: " + failure,
                "the stream processor stopped: it threw: " + failure};
    }
    if (!stop_reason.empty()) {
        return {outcome::cancelled, "interrupted: " + stop_reason, "interrupted: " + stop_reason,
                "the task stopped before it was processed"};
    }
    return {outcome::failed, "the stream processor released it without an outcome",
            "the stream processor returned before retrying it",
            "the stream processor returned before the stream ended"};
}

/// The stream processor over the task's stream: the consumer's work (see
/// `run_consumer`) when the processor pulls its events. `entry`'s signal is
/// bound to the consumer's cancellation slot: a stop interrupts the
/// processor through it.
template <class State, class R, class StreamProcessor, class Collector>
class stream_work {
    using stream_type = event_stream<typename State::event_type::payload_type, R,
                                     typename State::event_type::task_id_type>;

public:
    stream_work(const std::shared_ptr<State>& state, StreamProcessor processor, Collector collector,
                std::shared_ptr<interruptible> entry)
        : state_(*state),
          processor_(std::move(processor)),
          stream_(*state, std::move(collector)),
          entry_(std::move(entry)),
          interrupter_(std::make_shared<stream_interrupter>(entry_)) {
        state_.report_strategy("stream_processor");
        state_.listen_for_stop(interrupter_);  // held weakly: the work keeps it
        // A stop that came before the listener did is passed on here.
        if (state_.stopping()) interrupter_->stop_requested(stop_request::immediate);
    }

    /// Runs the stream processor; what it threw (an interruption by a stop
    /// is how it was stopped, not a failure).
    asio::awaitable<std::string> run() {
        std::string failure;
        try {
            co_await std::invoke(processor_, static_cast<stream_type&>(stream_));
        } catch (const system_error& ex) {
            if (!state_.stopping() || ex.code() != asio::error::operation_aborted) {
                failure = ex.what();
            }
        } catch (...) {
            failure = exception_text(std::current_exception());
        }
        entry_->ended = true;  // what remains is the library's, and must not be interrupted
        co_await asio::this_coro::reset_cancellation_state();
        if (!failure.empty()) {
            trace(state_.options, state_.id(), trace_kind::strategy_failed,
                  "stream processor failed: {}", failure);
        }
        co_return failure;
    }

    /// Gives what the processor held, waited to retry or never pulled an
    /// outcome that says how it ended (see `ending_for`).
    asio::awaitable<void> settle(std::string& failure) {
        const stream_ending ending =
            ending_for(failure, state_.stopping() ? state_.stop_reason() : std::string());
        co_await stream_.settle(ending.released_kind, ending.released_reason, ending.retry_reason);
        if (!state_.channel().drained()) co_await stream_.cancel_unpulled(ending.unpulled_reason);
        if (!failure.empty()) failure = "the stream processor threw: " + failure;
    }

    asio::awaitable<void> finish_outlets() { return stream_.finish_outlets(); }

    auto close(task_status status, const task_stats& stats, std::string failure) && {
        return std::move(stream_).close(status, stats, std::move(failure));
    }

private:
    State& state_;
    StreamProcessor processor_;
    stream_driver<State, Collector, R> stream_;
    std::shared_ptr<interruptible> entry_;
    std::shared_ptr<stream_interrupter> interrupter_;
};

/// The consumer coroutine of `state` for a stream processor (see
/// `run_consumer`). Its frame owns the processor, the stream and the
/// collector.
template <class State, class R, class StreamProcessor, class Collector, class Emitters>
asio::awaitable<void> consume_stream(std::shared_ptr<State> state, StreamProcessor processor,
                                     Collector collector, Emitters emitters,
                                     std::shared_ptr<interruptible> entry) {
    stream_work<State, R, StreamProcessor, Collector> work(state, std::move(processor),
                                                           std::move(collector), std::move(entry));
    co_await run_consumer(std::move(state), work, std::move(emitters));
}

/// Starts the consumer of `state` for `processor` on the consumer strand.
/// The coroutine frame owns the processor, the collector and the emitters.
template <class R, class State, class StreamProcessor, class Collector, class Emitters>
void start_stream_consumer(std::shared_ptr<State> state, StreamProcessor processor,
                           Collector collector, Emitters emitters) {
    auto executor = state->consumer_executor();
    auto entry = std::make_shared<interruptible>(executor);
    asio::co_spawn(executor,
                   consume_stream<State, R>(std::move(state), std::move(processor),
                                            std::move(collector), std::move(emitters), entry),
                   detached_owning(entry, entry->signal.slot()));
}

SWEET_ASYNC_DETAIL_END_ASIO_FRAMES

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_TASK_DETAIL_STREAM_CONSUMER_HPP
