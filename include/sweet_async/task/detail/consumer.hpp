// sweet_async/task/detail/consumer.hpp: the coroutine that drains an emitting task.
#ifndef SWEET_ASYNC_TASK_DETAIL_CONSUMER_HPP
#define SWEET_ASYNC_TASK_DETAIL_CONSUMER_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER(detached)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include <fmt/format.h>

#include <sweet_async/base/detail/asio_compat.hpp>
#include <sweet_async/base/detail/exception_text.hpp>
#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/base/detail/trace.hpp>
#include <sweet_async/base/link_report.hpp>
#include <sweet_async/receiver/receiver.hpp>
#include <sweet_async/task/detail/emitter_plan.hpp>
#include <sweet_async/task/detail/emitting_state.hpp>

namespace sweet_async::detail {

SWEET_ASYNC_DETAIL_BEGIN_ASIO_FRAMES

/// Arms the whole-task deadline of `task` (if it has one) on `timer`.
///
/// The timer lives in the consumer's frame, not in the shared state: a
/// handle may keep the state alive after the context is destroyed, and a
/// timer must not outlive its context; Asio destroys the frame with it.
inline void arm_deadline(asio::steady_timer& timer, const std::shared_ptr<task_control>& task) {
    if (!task->options.timeout) return;
    timer.expires_after(*task->options.timeout);
    timer.async_wait([weak = std::weak_ptr<task_control>(task)](error_code ec) {
        if (ec) return;
        if (auto alive = weak.lock()) alive->request_stop(stop_request::deadline);
    });
}

/// Publishes what the task runs (its strategy, with its settings).
template <class State, class Strategy>
void report_strategy(State& state, const Strategy& strategy) {
    if constexpr (fmt::is_formattable<Strategy>::value) {
        state.report_strategy(fmt::format("{}", strategy));
    } else {
        state.report_strategy(std::string(strategy.name()));
    }
}

/// Settles the task's status (`failed` when `failure` says why, else from the
/// stop request), traces its end and publishes the final result that
/// `finish(status, stats, failure)` makes. Every event has its outcome by now.
template <class State, class Finish>
void end_task(State& state, std::string failure, Finish&& finish) {
    task_status status = task_status::completed;
    if (!failure.empty()) {
        status = task_status::failed;
    } else {
        switch (state.stop()) {
        case stop_request::none: break;
        case stop_request::graceful:
        case stop_request::immediate: status = task_status::cancelled; break;
        case stop_request::deadline: status = task_status::timed_out; break;
        }
    }
    state.freeze_elapsed();
    const task_stats stats = state.stats();
    auto result = std::forward<Finish>(finish)(status, stats, std::move(failure));
    if constexpr (std::is_same_v<typename decltype(result)::collection_type, link_report>) {
        trace(state.options, state.id(), trace_kind::ended, "{}: {}; {}", status, stats,
              result.collection());
    } else {
        trace(state.options, state.id(), trace_kind::ended, "{}: {}", status, stats);
    }
    state.set_status(status);
    state.done.set(std::move(result));
}

/// The life of a task's consumer, whatever runs its events: the deadline
/// armed, the emitters started (they feed the stream beside the producers
/// outside), `work.run()` over the stream (its failure, or empty), then
/// `work.settle(failure)`, which gives whatever it left behind an outcome
/// and may say why it failed, the emitters joined, what waits for a next
/// stage's room handed on under the deadline, and the final result that
/// `work.close(status, stats, failure)` makes published. `Work` is the
/// receiver under a strategy (`strategy_work`) or the stream processor's
/// driver (`stream_work`); it lives in its caller's frame.
template <class State, class Work, class Emitters>
asio::awaitable<void> run_consumer(std::shared_ptr<State> state, Work& work, Emitters emitters) {
    asio::steady_timer deadline(state->executor);
    arm_deadline(deadline, state);
    const std::unique_ptr<emitter_run> emitting = emitters.start(state);
    std::string failure = co_await work.run();
    co_await work.settle(failure);
    if (emitting) {
        emitting->stream_ended();
        co_await emitting->join();
        if (failure.empty()) failure = emitting->failure();
    }
    co_await work.finish_outlets();  // under the deadline: the next stage may be full
    deadline.cancel();
    end_task(*state, std::move(failure),
             [&](task_status status, const task_stats& stats, std::string why) {
                 return std::move(work).close(status, stats, std::move(why));
             });
}

/// The receiver running a strategy over the task's stream: the consumer's
/// work when the processor takes events one by one (or in batches).
template <class State, class Receiver, class Strategy>
class strategy_work {
public:
    template <class Collector>
    strategy_work(const std::shared_ptr<State>& state, Strategy strategy,
                  std::shared_ptr<typename Receiver::runner_type> runner, bool takes_event,
                  Collector collector)
        : receiver_(state, std::move(runner), takes_event, std::move(collector)),
          strategy_(std::move(strategy)),
          state_(*state) {
        sweet_async::detail::report_strategy(state_, strategy_);
    }

    asio::awaitable<std::string> run() {
        std::string failure;
        try {
            co_await strategy_.run(receiver_);
        } catch (...) {
            failure = "the strategy threw: " + exception_text(std::current_exception());
        }
        co_return failure;
    }

    /// Waits for the events still running; a strategy that threw or returned
    /// before the stream ended leaves the rest cancelled with its reason.
    asio::awaitable<void> settle(std::string& failure) {
        co_await receiver_.wait_in_flight_below(1);
        if (failure.empty() && state_.channel().drained()) co_return;
        if (failure.empty()) failure = "the strategy returned before the stream ended";
        trace(state_.options, state_.id(), trace_kind::strategy_failed, "strategy failed: {}",
              failure);
        co_await receiver_.cancel_remaining(failure);
    }

    asio::awaitable<void> finish_outlets() { return receiver_.finish_outlets(); }

    auto close(task_status status, const task_stats& stats, std::string failure) && {
        return std::move(receiver_).finish(status, stats, std::move(failure));
    }

private:
    Receiver receiver_;
    Strategy strategy_;
    State& state_;
};

/// The consumer coroutine of `state` for a processor of events: runs
/// `strategy` with the receiver (see `run_consumer`). Its frame owns both,
/// with the collector; `runner` calls the processor. It does not depend on
/// the processor's type: one per payload, result, collector and processor
/// shape (see `receiver`).
template <class Receiver, class State, class Strategy, class Collector, class Emitters>
asio::awaitable<void> consume(std::shared_ptr<State> state, Strategy strategy,
                              std::shared_ptr<typename Receiver::runner_type> runner,
                              bool takes_event, Collector collector, Emitters emitters) {
    strategy_work<State, Receiver, Strategy> work(state, std::move(strategy), std::move(runner),
                                                  takes_event, std::move(collector));
    co_await run_consumer(std::move(state), work, std::move(emitters));
}

/// Starts the consumer of `state` on its consumer strand, `processor`
/// behind its runner.
template <class State, class Strategy, class Processor, class Collector, class Emitters>
void start_consumer(std::shared_ptr<State> state, Strategy strategy, Processor processor,
                    Collector collector, Emitters emitters) {
    using T = typename State::event_type::payload_type;
    using Id = typename State::event_type::task_id_type;
    using receiver_type =
        receiver_for<T, typename State::result_type::collection_type, Id, Processor, Collector>;
    auto runner = std::make_shared<attempt_runner<T, Id, Processor>>(state, std::move(processor));
    auto executor = state->consumer_executor();
    asio::co_spawn(executor,
                   consume<receiver_type>(std::move(state), std::move(strategy), std::move(runner),
                                          processor_traits<Processor, T, Id>::takes_event,
                                          std::move(collector), std::move(emitters)),
                   asio::detached);
}

SWEET_ASYNC_DETAIL_END_ASIO_FRAMES

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_TASK_DETAIL_CONSUMER_HPP
