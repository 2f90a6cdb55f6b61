// sweet_async/pipeline.hpp: what a processing strategy drives.
#ifndef SWEET_ASYNC_PIPELINE_HPP
#define SWEET_ASYNC_PIPELINE_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <sweet_async/detail/attempt_runner.hpp>
#include <sweet_async/detail/deadline.hpp>
#include <sweet_async/detail/detached_owning.hpp>
#include <sweet_async/detail/duration_text.hpp>
#include <sweet_async/detail/emitting_state.hpp>
#include <sweet_async/detail/enum_formatter.hpp>
#include <sweet_async/detail/in_flight_scope.hpp>
#include <sweet_async/detail/interrupt_registry.hpp>
#include <sweet_async/detail/plain_formatter.hpp>
#include <sweet_async/detail/processor_traits.hpp>
#include <sweet_async/detail/reorder_ring.hpp>
#include <sweet_async/detail/trace.hpp>
#include <sweet_async/event.hpp>
#include <sweet_async/ledger.hpp>
#include <sweet_async/outcome.hpp>
#include <sweet_async/processor_context.hpp>

namespace sweet_async {

/// In which order a concurrent strategy hands results to the collector.
enum class completion_order {
    completion,  ///< As they finish (the default: no waiting on slow events).
    arrival,     ///< In the order the events arrived.
};

/// The name of `order`: "completion" or "arrival".
constexpr std::string_view to_string(completion_order order) noexcept {
    switch (order) {
    case completion_order::completion: return "completion";
    case completion_order::arrival: return "arrival";
    }
    return "unknown";
}

/// What a pipeline has measured since it was last asked (see `take_measurement`).
struct pipeline_measurement {
    std::size_t finished = 0;                   ///< Events that got an outcome.
    std::size_t latency_samples = 0;            ///< Of those, events whose latency was timed.
    std::chrono::nanoseconds total_latency{0};  ///< Sum of their started-to-completed times.

    /// Mean started-to-completed time of the timed events; zero when none was timed.
    std::chrono::nanoseconds mean_latency() const noexcept {
        if (latency_samples == 0) return std::chrono::nanoseconds::zero();
        return total_latency / static_cast<std::ptrdiff_t>(latency_samples);
    }
};

/// The consumer side of one emitting task, as a processing strategy sees it:
/// a source of events and ways to process them so that each ends with exactly
/// one recorded outcome.
///
/// A strategy receives events (`try_receive` first, `wait_for_events` only
/// when nothing is ready) and processes each one in one of three ways:
/// - here and now: `process_now` (synchronous processors: no coroutine frame,
///   no allocation) or `co_await process` (any processor);
/// - concurrently: `dispatch` runs it on an executor of the strategy's
///   choosing, `in_flight()` counts what is running and `wait_in_flight_below`
///   waits for room;
/// - in batches (per-batch processors): `process_batch_now` / `process_batch`.
///
/// A per-batch processor is called with a batch of one event wherever a
/// single event is processed.
///
/// Processing applies the task's retries and the per-event timeout the
/// strategy passes, and records the result in the collector or the error
/// list. All members are called from the strategy's coroutine, which runs on
/// the consumer strand; outcomes of dispatched events are recorded on that
/// strand too, so the collector never needs a lock.
template <class T, class Collection, class Id, class Processor, class Collector>
class pipeline {
    using traits = detail::processor_traits<Processor, T, Id>;
    using state_type = detail::emitting_state<T, Collection, Id>;
    using runner_type = detail::attempt_runner<state_type, Processor>;

public:
    using event_type = event<T, Id>;  ///< The events it hands out.
    using payload_type = T;           ///< What the events carry.
    /// What the processor produces per event (`std::monostate` for void).
    using result_type = typename traits::result_type;
    using duration = std::chrono::nanoseconds;  ///< The unit of timeouts.
    /// True when the processor returns its result directly (not a coroutine).
    static constexpr bool synchronous_processor = !traits::is_coroutine;
    /// True when the processor takes a `std::span<const T>` of payloads.
    static constexpr bool batch_processor = traits::takes_batch;

    /// Made by the task when its consumer starts; strategies only receive it by reference.
    pipeline(const std::shared_ptr<state_type>& state, Processor processor, Collector collector)
        : state_(*state),
          runner_(std::make_shared<runner_type>(state, std::move(processor))),
          ledger_(state->counts, std::move(collector), state->options.retained_errors),
          context_(runner_->new_context()),
          in_flight_(state, recorder{this}) {}

    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    /// The task's executor: where dispatched work runs unless a strategy
    /// chooses another.
    const asio::any_io_executor& get_executor() const noexcept { return state_.executor; }

    /// The name of the task, for strategies that trace their decisions.
    const std::string& task_name() const noexcept { return state_.options.name; }
    /// True when the task's tracing is on.
    bool tracing() const noexcept { return state_.options.tracing; }

    // ----- receiving ---------------------------------------------------------------

    /// The next event if one is ready; never suspends. The event's
    /// `sequence()` is set to its arrival index, counted here: a send that
    /// failed after the channel claimed its place (a throwing copy) leaves no
    /// gap, which arrival-order release would wait on forever.
    std::optional<event_type> try_receive() {
        std::optional<event_type> e = state_.channel.try_receive();
        if (e) detail::event_access::set_sequence(*e, received_++);
        return e;
    }

    /// Suspends until an event may be ready (true) or the stream has ended and
    /// every event was received (false). May return true spuriously.
    asio::awaitable<bool> wait_for_events() {
        auto& channel = state_.channel;
        if (!channel.ready() && !channel.drained()) {
            co_await channel.async_wait_readable(asio::use_awaitable);
        }
        co_return channel.ready() || !channel.drained();
    }

    /// Like `wait_for_events`, but gives up at `deadline`: returns true when
    /// an event may be ready, false when the deadline passed or the stream
    /// ended (tell them apart with `ended()`).
    asio::awaitable<bool> wait_for_events_until(std::chrono::steady_clock::time_point deadline) {
        auto& channel = state_.channel;
        if (!channel.ready() && !channel.drained() && std::chrono::steady_clock::now() < deadline) {
            using namespace asio::experimental::awaitable_operators;
            asio::steady_timer timer(state_.consumer_executor, deadline);
            std::error_code wait_result;
            std::error_code timer_result;
            // Whichever finishes first cancels the other (the channel's wait
            // supports per-operation cancellation); either way we re-check.
            co_await (channel.async_wait_readable(
                          asio::redirect_error(asio::use_awaitable, wait_result)) ||
                      timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_result)));
        }
        co_return channel.ready();
    }

    /// True once the stream has ended and every event was received.
    bool ended() const noexcept { return state_.channel.drained(); }

    // ----- processing here and now ---------------------------------------------------

    /// Processes `e` right here (synchronous per-event processors): runs the
    /// processor, retrying on exceptions, and records the outcome. A
    /// synchronous processor cannot be interrupted; when an attempt overruns
    /// `timeout`, its result is discarded and the event ends `timed_out`.
    ///
    /// Never suspends. When a retry must first wait its backoff, the event
    /// continues as in-flight work (see `in_flight()`): a strategy that
    /// processes one event at a time waits for it with
    /// `wait_in_flight_below(1)` before the next.
    void process_now(event_type&& e,
                     std::optional<duration> timeout = {}) requires synchronous_processor {
        if (state_.stopping()) return cancel(std::move(e));
        const bool stamped = stamps(e);
        if (stamped) detail::event_access::mark_started(e, event_clock::now());
        attempt result;
        auto call = runner_->single_call(e, context_);
        runner_->run_sync(call, timeout, result);
        if (result.wait) {
            return spawn_attempts(std::move(e), std::move(result), timeout,
                                  state_.consumer_executor, completion_order::completion, stamped);
        }
        if (stamped) detail::event_access::mark_completed(e, event_clock::now());
        settle(std::move(e), std::move(result), timeout);
    }

    /// Processes `e` in the strategy's coroutine (any per-event processor),
    /// and returns once it has its outcome. A coroutine processor that
    /// overruns `timeout`, or is still running when the task is cancelled
    /// `immediate` or reaches its deadline, is cancelled through Asio's
    /// per-operation cancellation.
    asio::awaitable<void> process(event_type e, std::optional<duration> timeout = {}) {
        if constexpr (synchronous_processor) {
            if (state_.options.retry_backoff.immediate())
                co_return process_now(std::move(e), timeout);
        }
        if (state_.stopping()) co_return cancel(std::move(e));
        stamp_started(e);
        attempt result;
        processor_context<Id> context = runner_->new_context();
        auto call = runner_->single_call(e, context);
        if constexpr (synchronous_processor) runner_->run_sync(call, timeout, result);
        if (!synchronous_processor || result.wait) {
            co_await interruptibly(runner_->run_async(call, timeout, result));
        }
        stamp_completed(e);
        settle(std::move(e), std::move(result), timeout);
    }

    // ----- processing concurrently ---------------------------------------------------

    /// Starts processing `e` on `where` and returns at once. The processor
    /// may then run on several threads at the same time (it must be safe to
    /// call concurrently). The outcome is recorded on the consumer strand; with
    /// `completion_order::arrival`, results reach the collector in arrival
    /// order, which requires every received event to be dispatched.
    void dispatch(event_type&& e, std::optional<duration> timeout,
                  const asio::any_io_executor& where,
                  completion_order order = completion_order::completion) {
        if (state_.stopping()) {
            attempt cancelled;
            cancelled.cancelled = true;
            finish_dispatched(std::move(e), std::move(cancelled), timeout, order);
            return;
        }
        if constexpr (synchronous_processor) {
            std::vector<event_type> run;
            run.push_back(std::move(e));
            dispatch_run(run, timeout, where, order);
        } else {
            // Its own strand, so that an interruption can be delivered where
            // the coroutine runs.
            const bool stamped = stamps(e);
            spawn_attempts(std::move(e), attempt{}, timeout, asio::make_strand(where), order,
                           stamped);
        }
    }

    /// The concurrent loop's step: starts up to `free` idle workers on
    /// `where` with the events that are ready, and returns how many events
    /// it gave them (0 when none was ready). A coroutine processor's worker gets
    /// one event. A synchronous processor's worker gets a run of events that
    /// it processes one after another (up to `most_per_worker`), so that a
    /// flowing stream costs one hand-off each way per run rather than per
    /// event: the backlog is dealt out round-robin, so the first `free`
    /// events start at once, as they would one by one. Each worker counts as
    /// one unit in flight.
    std::size_t dispatch_ready(std::size_t free, std::optional<duration> timeout,
                               const asio::any_io_executor& where,
                               completion_order order = completion_order::completion) {
        if (free == 0) return 0;
        if constexpr (synchronous_processor) {
            const std::size_t most =
                free > SIZE_MAX / most_per_worker ? SIZE_MAX : free * most_per_worker;
            const std::size_t wanted = std::clamp<std::size_t>(state_.channel.queued(), 1, most);
            const std::size_t slots = std::min(free, wanted);
            if (runs_.size() < slots) runs_.resize(slots);
            std::size_t dealt = 0;
            for (; dealt < wanted; ++dealt) {
                auto e = try_receive();
                if (!e) break;
                runs_[dealt % slots].push_back(std::move(*e));
            }
            for (std::size_t i = 0; i < std::min(dealt, slots); ++i)
                dispatch_run(runs_[i], timeout, where, order);
            return dealt;
        }
        auto e = try_receive();
        if (!e) return 0;
        dispatch(std::move(*e), timeout, where, order);
        return 1;
    }

    /// The longest run of events `dispatch_ready` gives one worker.
    static constexpr std::size_t most_per_worker = 64;

    /// How many units of work are in flight (see `dispatch_ready`; an event
    /// `dispatch`ed on its own is one).
    std::size_t in_flight() const noexcept { return in_flight_.size(); }

    /// Suspends until fewer than `limit` dispatched events are in flight
    /// (use 1 to wait for all of them).
    asio::awaitable<void> wait_in_flight_below(std::size_t limit) {
        return in_flight_.wait_below(limit);
    }

    // ----- processing in batches -----------------------------------------------------

    /// Processes `batch` with one call of the per-batch processor, here and
    /// now, and clears it. Every event gets its own outcome; if the processor
    /// throws on its last attempt or returns a wrong number of results, every
    /// event of the batch fails with that message. Never suspends: when a
    /// retry must wait its backoff, the batch continues as in-flight work.
    void process_batch_now(
        std::vector<event_type>& batch,
        std::optional<duration> timeout = {}) requires(synchronous_processor&& batch_processor) {
        if (!begin_batch(batch)) return;
        batch_attempt result;
        auto call = runner_->batch_call(payloads_);
        runner_->run_sync(call, timeout, result);
        if (result.wait) return spawn_batch_attempts(batch, std::move(result), timeout);
        end_batch(batch, payloads_, std::move(result), timeout);
    }

    /// Like `process_batch_now`, for any per-batch processor, returning once
    /// the batch has its outcomes; a coroutine processor that overruns
    /// `timeout` or is running when the task stops is cancelled.
    asio::awaitable<void>
    process_batch(std::vector<event_type>& batch,
                  std::optional<duration> timeout = {}) requires batch_processor {
        if constexpr (synchronous_processor) {
            if (state_.options.retry_backoff.immediate())
                co_return process_batch_now(batch, timeout);
        }
        if (!begin_batch(batch)) co_return;
        batch_attempt result;
        auto call = runner_->batch_call(payloads_);
        if constexpr (synchronous_processor) runner_->run_sync(call, timeout, result);
        if (!synchronous_processor || result.wait) {
            co_await interruptibly(runner_->run_async(call, timeout, result));
        }
        end_batch(batch, payloads_, std::move(result), timeout);
    }

    // ----- bookkeeping ---------------------------------------------------------------

    /// Ends `e` as cancelled without processing it.
    void cancel(event_type&& e, std::string reason = "the task stopped before it was processed") {
        cancel(std::move(e), std::move(reason), 0);
    }

    /// Publishes the strategy's current choice, and a decision that led to it
    /// (traced when the task's tracing is on). See `strategy_report`.
    void report(std::string current, std::string decision = {}) {
        if (!decision.empty()) {
            detail::trace(state_.options, state_.id, trace_kind::strategy_decision, "strategy: {}",
                          decision);
        }
        state_.report_strategy(std::move(current), std::move(decision));
    }

    /// True once `cancel(immediate)` or the task's deadline asked the task to
    /// stop: events processed from now on end as cancelled, so a strategy
    /// that waits between events (pacing, windows) should stop waiting.
    bool stopping() const noexcept { return state_.stopping(); }

    /// The task's retry setting: extra attempts after a failure.
    unsigned retry() const noexcept { return state_.options.retry; }

    /// Turns on measurement (see `take_measurement`) for the rest of the
    /// task. Off by default. Latency is timed on one event in
    /// `latency_sample_every` (by sequence number, so no shared counter):
    /// timing costs two clock reads, more than a trivial processor itself.
    void measure_latency() noexcept { measuring_ = true; }

    /// One event in this many has its processing latency timed while measuring.
    static constexpr std::uint64_t latency_sample_every = 16;

    /// What was measured since the last call, once `measure_latency()` is
    /// on: events finished, and the processing latency of the sampled ones
    /// (for strategies that adapt).
    pipeline_measurement take_measurement() noexcept { return std::exchange(measured_, {}); }

    /// Waits for dispatched work, then ends every event still to come as
    /// cancelled until the stream is drained. The library calls it when a
    /// strategy returns early or throws.
    asio::awaitable<void> cancel_remaining(std::string reason) {
        co_await wait_in_flight_below(1);
        state_.channel.close();
        for (;;) {
            while (auto e = try_receive())
                cancel(std::move(*e), reason);
            if (!co_await wait_for_events()) co_return;
        }
    }

    /// Hands over everything recorded. Called once, at the end.
    final_result<T, Collection, Id> finish(task_status status, task_stats stats) && {
        return std::move(ledger_).close(state_.id, state_.options.name, status, stats,
                                        state_.strategy_report());
    }

private:
    using attempt = typename runner_type::single;
    using batch_attempt = typename runner_type::batch;

    /// A dispatched event's result on its way back to the consumer strand.
    struct finished {
        event_type e;
        attempt result;
        std::optional<duration> timeout;
        completion_order order;
        bool stamped;  // whether its processing is timed (see `stamps`)
        /// The interruption entry of the coroutine that ran it, if one did.
        std::shared_ptr<detail::interruptible> entry;
        /// Where the remaining attempts run, when a retry must first wait
        /// (empty otherwise).
        asio::any_io_executor continue_on;
    };

    /// Records the results the in-flight scope hands back (consumer strand).
    struct recorder {
        pipeline* self;  // the scope lives inside the pipeline and goes with it
        void operator()(finished&& f) const { self->record(std::move(f)); }
    };

    /// Awaits `work` on the consumer strand, interruptible by a stop request.
    asio::awaitable<void> interruptibly(asio::awaitable<void> work) {
        auto entry = state_.interrupts.enter(state_.consumer_executor);
        // clang-tidy 14 takes the coroutine frame's own copy of a parameter
        // for a use after the move.
        co_await asio::co_spawn(  // NOLINT(bugprone-use-after-move)
            state_.consumer_executor, std::move(work),
            asio::bind_cancellation_slot(entry->signal.slot(), asio::use_awaitable));
        entry->ended = true;
        state_.interrupts.leave(*entry);
    }

    /// Runs the (remaining) attempts at `e` in a coroutine on `strand`,
    /// interruptible by a stop request; the result comes back through the
    /// in-flight scope. Consumer strand only.
    void spawn_attempts(event_type&& e, attempt&& r, std::optional<duration> timeout,
                        asio::any_io_executor strand, completion_order order, bool stamped) {
        in_flight_.started();
        auto entry = state_.interrupts.enter(strand);
        asio::co_spawn(
            strand,
            // The coroutine owns what it touches, as in `dispatch`.
            // NOLINTNEXTLINE(bugprone-use-after-move): the coroutine frame's copies
            [](std::shared_ptr<runner_type> runner, std::shared_ptr<inbox_type> inbox, event_type e,
               attempt r, std::optional<duration> timeout, completion_order order, bool stamped,
               std::shared_ptr<detail::interruptible> entry) -> asio::awaitable<void> {
                if (r.made == 0 && runner->state().stopping()) {
                    r.cancelled = true;
                } else {
                    if (r.made == 0 && stamped) {
                        detail::event_access::mark_started(e, event_clock::now());
                    }
                    processor_context<Id> context = runner->new_context();
                    auto call = runner->single_call(e, context);
                    co_await runner->run_async(call, timeout, r);
                    if (stamped) detail::event_access::mark_completed(e, event_clock::now());
                }
                entry->ended = true;
                inbox->deliver(finished{
                    std::move(e), std::move(r), timeout, order, stamped, std::move(entry), {}});
            }(runner_, in_flight_.handoff(), std::move(e), std::move(r), timeout, order, stamped,
                                                             entry),
            detail::detached_owning(entry, entry->signal.slot()));
    }

    /// Processes `events` with a synchronous processor, one after another, in
    /// one piece of work on `where`; the results come back together, and an
    /// event whose retry must first wait its backoff comes back to continue
    /// in a coroutine. The work owns what it touches (the runner, and through
    /// it the processor and the task's state) and hands back through the
    /// inbox only: the task's context may be gone when it ends.
    void dispatch_run(std::vector<event_type>& events, std::optional<duration> timeout,
                      const asio::any_io_executor& where, completion_order order) {
        in_flight_.started();
        asio::post(where, [runner = runner_, inbox = in_flight_.handoff(), run = std::move(events),
                           timeout, where, order, measuring = measuring_]() mutable {
            std::vector<finished> results;
            results.reserve(run.size());
            processor_context<Id> context = runner->new_context();
            for (event_type& e : run) {
                attempt result;
                const bool stamped = stamps(e, measuring);
                if (runner->state().stopping()) {
                    result.cancelled = true;
                } else {
                    if (stamped) detail::event_access::mark_started(e, event_clock::now());
                    auto call = runner->single_call(e, context);
                    runner->run_sync(call, timeout, result);
                    if (stamped && !result.wait) {
                        detail::event_access::mark_completed(e, event_clock::now());
                    }
                }
                asio::any_io_executor continue_on;
                if (result.wait) continue_on = where;
                results.push_back(finished{std::move(e), std::move(result), timeout, order, stamped,
                                           nullptr, std::move(continue_on)});
            }
            inbox->deliver_all(results);
        });
        events = {};
    }

    /// Records what a dispatched event's work handed back: its outcome, or
    /// the rest of its attempts when a retry must first wait.
    void record(finished&& f) {
        if (f.entry) state_.interrupts.leave(*f.entry);
        if (f.continue_on) {
            return spawn_attempts(std::move(f.e), std::move(f.result), f.timeout,
                                  asio::make_strand(f.continue_on), f.order, f.stamped);
        }
        finish_dispatched(std::move(f.e), std::move(f.result), f.timeout, f.order);
    }

    /// `process_batch_now`'s continuation after a failed attempt that must
    /// wait its backoff: the batch moves into a coroutine on the consumer
    /// strand and counts as one event in flight until it has its outcomes.
    void spawn_batch_attempts(std::vector<event_type>& batch, batch_attempt&& r,
                              std::optional<duration> timeout) {
        in_flight_.started();
        auto entry = state_.interrupts.enter(state_.consumer_executor);
        asio::co_spawn(
            state_.consumer_executor,
            [](pipeline* self, std::vector<event_type> batch, std::vector<T> payloads,
               batch_attempt r, std::optional<duration> timeout,
               std::shared_ptr<detail::interruptible> entry) -> asio::awaitable<void> {
                auto call = self->runner_->batch_call(payloads);
                co_await self->runner_->run_async(call, timeout, r);
                entry->ended = true;
                self->state_.interrupts.leave(*entry);
                self->end_batch(batch, payloads, std::move(r), timeout);
                self->in_flight_.ended();
            }(this, std::move(batch), std::exchange(payloads_, {}), std::move(r), timeout, entry),
            detail::detached_owning(entry, entry->signal.slot()));
        batch.clear();
    }

    /// Records the outcome of `e`.
    void settle(event_type&& e, attempt&& result, std::optional<duration> timeout) {
        if (result.cancelled) {
            if (result.made == 0) return cancel(std::move(e));
            cancel(std::move(e), "interrupted: " + stop_reason(), result.made);
            return;
        }
        measure(e);
        if (result.overran) {
            time_out(std::move(e), *timeout, result.made);
        } else if (!result.result) {
            fail(std::move(e), std::move(result.error), result.made);
        } else {
            ledger_.processed(std::move(e), std::move(*result.result));
        }
    }

    /// Records a dispatched event's outcome, on the consumer strand.
    void finish_dispatched(event_type&& e, attempt&& result, std::optional<duration> timeout,
                           completion_order order) {
        if (order == completion_order::completion) {
            settle(std::move(e), std::move(result), timeout);
        } else {
            // Results that overtook earlier events wait until those are in.
            const std::uint64_t sequence = e.sequence();  // before `e` moves
            in_order_.arrive(sequence, held{std::move(e), std::move(result), timeout},
                             [this](held&& ready) {
                                 settle(std::move(ready.e), std::move(ready.result), ready.timeout);
                             });
        }
    }

    /// Moves the payloads of `batch` into the reusable payload buffer and
    /// marks the events started; cancels the batch instead when stopping.
    bool begin_batch(std::vector<event_type>& batch) {
        if (batch.empty()) return false;
        if (state_.stopping()) {
            for (auto& e : batch)
                cancel(std::move(e));
            batch.clear();
            return false;
        }
        payloads_.clear();
        const auto started = event_clock::now();
        for (auto& e : batch) {
            detail::event_access::mark_started(e, started);
            payloads_.push_back(std::move(e).payload());
        }
        return true;
    }

    /// Gives every event of `batch` its outcome and clears it.
    void end_batch(std::vector<event_type>& batch, std::vector<T>& payloads, batch_attempt&& r,
                   std::optional<duration> timeout) {
        const auto completed = event_clock::now();
        if (r.result && r.result->size() != batch.size()) {
            r.error = fmt::format("the batch processor returned {} results for {} events",
                                  r.result->size(), batch.size());
            r.result.reset();
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            event_type& e = batch[i];
            detail::event_access::mark_completed(e, completed);
            // The final event is handed back whole, whatever its outcome.
            if (e.is_final()) e.payload() = std::move(payloads[i]);
            if (r.cancelled) {
                cancel(std::move(e), "interrupted: " + stop_reason(), r.made);
                continue;
            }
            measure(e);
            if (r.overran) {
                time_out(std::move(e), *timeout, r.made);
            } else if (!r.result) {
                fail(std::move(e), r.error, r.made);
            } else {
                ledger_.processed(std::move(e), std::move((*r.result)[i]));
            }
        }
        batch.clear();
    }

    /// Why an interrupted event ends cancelled.
    std::string stop_reason() const {
        return state_.stop.load(std::memory_order_acquire) == detail::stop_request::deadline
                   ? "the task's deadline passed"
                   : "the task was cancelled (immediate)";
    }

    void fail(event_type&& e, std::string message, unsigned attempts) {
        ledger_.unprocessed(std::move(e), outcome::failed, std::move(message), attempts);
    }

    void time_out(event_type&& e, duration timeout, unsigned attempts) {
        // Past the retention limit the message would be dropped unread.
        std::string message = ledger_.retains_errors()
                                  ? fmt::format("processing took longer than the timeout of {}",
                                                detail::duration_text(timeout))
                                  : std::string();
        ledger_.unprocessed(std::move(e), outcome::timed_out, std::move(message), attempts);
    }

    /// Processing timestamps are taken only where someone can read them:
    /// the final event (it is handed back), processors that see the whole
    /// event, and strategies that measure latency. For the rest, nobody can
    /// tell, and the flowing path saves two clock reads per event.
    void stamp_started(event_type& e) const noexcept {
        if (stamps(e)) detail::event_access::mark_started(e, event_clock::now());
    }

    void stamp_completed(event_type& e) const noexcept {
        if (stamps(e)) detail::event_access::mark_completed(e, event_clock::now());
    }

    bool stamps(const event_type& e) const noexcept { return stamps(e, measuring_); }

    static bool stamps(const event_type& e, bool measuring) noexcept {
        return stamps_every_event || e.is_final() ||
               (measuring && e.sequence() % latency_sample_every == 0);
    }

    void measure(const event_type& e) noexcept {
        if (!measuring_) return;
        ++measured_.finished;
        if (e.started() && e.completed()) {
            ++measured_.latency_samples;
            measured_.total_latency += *e.completed() - *e.started();
        }
    }

    void cancel(event_type&& e, std::string reason, unsigned attempts) {
        stamp_completed(e);
        ledger_.unprocessed(std::move(e), outcome::cancelled, std::move(reason), attempts);
    }

    /// A result held back until the events before it have theirs.
    struct held {
        event_type e;
        attempt result;
        std::optional<duration> timeout;
    };
    using inbox_type = typename detail::in_flight_scope<state_type, finished, recorder>::inbox;

    state_type& state_;  // owned by the consumer coroutine that owns this pipeline
    std::shared_ptr<runner_type> runner_;
    ledger<T, Collection, Id, Collector> ledger_;
    processor_context<Id> context_;  // for processing in the consumer coroutine
    pipeline_measurement measured_;
    bool measuring_ = false;
    static constexpr bool stamps_every_event = traits::takes_event;

    // Concurrent processing; touched on the consumer strand only.
    detail::in_flight_scope<state_type, finished, recorder> in_flight_;
    detail::reorder_ring<held> in_order_;
    std::uint64_t received_ = 0;  // events received: the next one's arrival index

    std::vector<T> payloads_;  // the current batch's payloads, reused across batches
    // The runs `dispatch_ready` deals out, one per worker it starts.
    std::vector<std::vector<event_type>> runs_;
};

}  // namespace sweet_async

/// The value's name, "completion" or "arrival"; takes string format specs.
template <>
struct fmt::formatter<sweet_async::completion_order>
    : sweet_async::detail::enum_formatter<sweet_async::completion_order> {};

/// `finished=<n> latency_samples=<n> mean_latency=<duration>`.
template <>
struct fmt::formatter<sweet_async::pipeline_measurement> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::pipeline_measurement& m, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "finished={} latency_samples={} mean_latency={}",
                              m.finished, m.latency_samples,
                              sweet_async::detail::duration_text(m.mean_latency()));
    }
};

#endif  // SWEET_ASYNC_PIPELINE_HPP
