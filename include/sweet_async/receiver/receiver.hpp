// sweet_async/receiver/receiver.hpp: what a processing strategy drives.
#ifndef SWEET_ASYNC_RECEIVER_RECEIVER_HPP
#define SWEET_ASYNC_RECEIVER_RECEIVER_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER(post)
#include SWEET_ASYNC_ASIO_HEADER(strand)

#include <sweet_async/base/completion_order.hpp>
#include <sweet_async/base/detail/detached_owning.hpp>
#include <sweet_async/base/detail/interrupt_registry.hpp>
#include <sweet_async/base/detail/trace.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/processing_measurement.hpp>
#include <sweet_async/base/processor_context.hpp>
#include <sweet_async/channel/detail/outbox.hpp>
#include <sweet_async/receiver/detail/attempt_runner.hpp>
#include <sweet_async/receiver/detail/emitting_core.hpp>
#include <sweet_async/receiver/detail/event_source.hpp>
#include <sweet_async/receiver/detail/in_flight_scope.hpp>
#include <sweet_async/receiver/detail/outcome_recorder.hpp>
#include <sweet_async/receiver/detail/processor_traits.hpp>

namespace sweet_async {

/// While it lives, a strategy's watcher hears of every outcome the task
/// records (see `receiver::watch_outcomes`); destroying it ends that. Move-only.
class outcome_watch {
public:
    /// Empties `slot` when destroyed.
    explicit outcome_watch(std::function<void(std::uint64_t, outcome)>& slot) noexcept
        : slot_(&slot) {}
    /// Takes over `other`'s slot; `other` then empties nothing.
    outcome_watch(outcome_watch&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
    outcome_watch& operator=(outcome_watch&&) = delete;
    /// Stops the watching: the slot is emptied.
    ~outcome_watch() {
        if (slot_ != nullptr) *slot_ = nullptr;
    }

private:
    std::function<void(std::uint64_t, outcome)>* slot_;
};

/// The receiver of one emitting task, as a processing strategy sees it: a
/// source of events and three verbs that give each one exactly one recorded
/// outcome, whatever kind of processor the task has.
///
/// A strategy receives events (`try_receive` first, `wait_for_events` only
/// when nothing is ready) and hands them on with
/// - `process(e)`: here, on the consumer strand;
/// - `process_batch(batch)`: one call of a per-batch processor;
/// - `dispatch(e, ...)` / `dispatch_ready(...)`: concurrently, on an
///   executor of the strategy's choosing.
///
/// None of them suspends. A synchronous processor runs inline (no coroutine
/// frame, no allocation); a coroutine processor, and a retry that must first
/// wait its backoff, continue as work in flight. `in_flight()` counts that
/// work and `co_await wait_in_flight_below(n)` waits for room, so a strategy
/// that handles one event at a time writes the same loop for every kind of
/// processor:
///
/// ```cpp
/// receiver.process(std::move(*e), timeout);
/// if (receiver.in_flight() != 0) co_await receiver.wait_in_flight_below(1);
/// ```
///
/// A per-batch processor is called with a batch of one event wherever a
/// single event is processed. Processing applies the task's retries and the
/// per-event timeout the strategy passes. All members are called from the
/// strategy's coroutine, which runs on the consumer strand; outcomes of work
/// in flight are recorded on that strand too, so the collector never needs a
/// lock.
///
/// Its type depends on the processor's result `R` and shape (`Shape`:
/// synchronous or a coroutine, per event or per batch), not on the processor
/// itself, which it calls through a `detail::processor_runner`: the receiver,
/// the consumer and the strategy are compiled once for every task of the
/// same payload, result, collector and shape (see `receiver_for`).
template <class T, class Collection, class Id, class R, class Collector, class Shape>
class receiver {
    using state_type = detail::emitting_core<T, Id>;
    using recorder_type = detail::outcome_recorder<state_type, Collector, R>;

public:
    using event_type = event<T, Id>;  ///< The events it hands out.
    using payload_type = T;           ///< What the events carry.
    /// What the processor produces per event (`std::monostate` for void).
    using processor_result = R;
    using duration = std::chrono::nanoseconds;  ///< The unit of timeouts.
    /// True when the processor returns its result directly (not a coroutine).
    static constexpr bool synchronous_processor = Shape::synchronous;
    /// True when the processor takes a `std::span<const T>` of payloads.
    static constexpr bool batch_processor = Shape::batch;
    /// What calls the task's processor (made by the task).
    using runner_type = detail::processor_runner<T, Id, R, Shape>;

    /// Made by the task when its consumer starts; strategies only receive it
    /// by reference. `takes_event`: the processor reads the whole event.
    receiver(const std::shared_ptr<state_type>& state, std::shared_ptr<runner_type> runner,
             bool takes_event, Collector collector);

    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;

    /// The task's executor: where dispatched work runs unless a strategy
    /// chooses another.
    const asio::any_io_executor& get_executor() const noexcept { return state_.executor; }

    /// The name of the task, for strategies that trace their decisions.
    const std::string& task_name() const noexcept { return state_.options.name; }
    /// True when the task's tracing is on.
    bool tracing() const noexcept { return state_.options.tracing; }

    // ----- receiving ---------------------------------------------------------------

    /// The next event if one is ready; never suspends. Its `sequence()` is
    /// its arrival index.
    std::optional<event_type> try_receive() { return source_.try_receive(); }

    /// Suspends until an event may be ready (true) or the stream has ended and
    /// every event was received (false). May return true spuriously.
    asio::awaitable<bool> wait_for_events() { return source_.wait_for_events(); }

    /// Like `wait_for_events`, but gives up at `deadline`: returns true when
    /// an event may be ready, false when the deadline passed or the stream
    /// ended (tell them apart with `ended()`).
    asio::awaitable<bool> wait_for_events_until(std::chrono::steady_clock::time_point deadline) {
        return source_.wait_for_events_until(deadline);
    }

    /// True once the stream has ended and every event was received.
    bool ended() const noexcept { return source_.ended(); }

    /// Suspends until an event may be ready or some work in flight has
    /// ended (its outcome recorded), whichever comes first: for strategies
    /// that can start work on either (`per_key`). Returns false once the
    /// stream has ended, every event was received and nothing is in flight.
    /// May return true spuriously.
    asio::awaitable<bool> wait_for_events_or_outcome();

    // ----- processing ----------------------------------------------------------------

    /// Processes `e` on the consumer strand; never suspends. A synchronous
    /// processor runs here and now, retrying on exceptions; one that overruns
    /// `timeout` cannot be interrupted, its result is discarded and the event
    /// ends `timed_out`. A coroutine processor (and a retry that must first
    /// wait its backoff) continues in flight on the consumer strand; it is
    /// cancelled through Asio's per-operation cancellation when it overruns
    /// `timeout`, or when the task is cancelled `immediate` or reaches its
    /// deadline.
    void process(event_type&& e, std::optional<duration> timeout = {});

    /// Takes the events that are ready, up to `most`, and processes each as
    /// `process(e, timeout)` would, in arrival order; never suspends. Returns
    /// how many it took (0: none was ready). Stops after an event that
    /// continues in flight (a coroutine processor, a retry waiting its
    /// backoff), so that a strategy handling one event at a time waits for it
    /// before the next run.
    ///
    /// A run shares the channels' hand-offs: the slots it frees go back to the
    /// producers, and the results it forwards to a next stage are published,
    /// with one fence each way per run rather than per event. A producer or
    /// a next stage that parks at the very moment of the run may hear of it
    /// only when the run ends, so keep `most` small where processing is slow.
    std::size_t process_ready(std::size_t most, std::optional<duration> timeout = {});

    /// Processes `batch` with one call of the per-batch processor and clears
    /// it; never suspends (a coroutine processor, or a retry that must wait,
    /// continues in flight as one unit). Every event gets its own outcome; if
    /// the processor throws on its last attempt or returns a wrong number of
    /// results, every event of the batch fails with that message.
    // Defined here: Clang 14 matches no out-of-class definition with a requires-clause.
    void process_batch(std::vector<event_type>& batch,
                       std::optional<duration> timeout = {}) requires batch_processor {
        if (!begin_batch(batch)) return;
        batch_attempt result;
        if constexpr (synchronous_processor) {
            runner_->run_sync(payloads_, timeout, result);
            if (!result.wait) return outcomes_.record(batch, payloads_, std::move(result), timeout);
        }
        spawn_batch_attempts(batch, std::move(result), timeout);
    }

    /// Starts processing `e` on `where` and returns at once. The processor
    /// may then run on several threads at the same time (it must be safe to
    /// call concurrently). The outcome is recorded on the consumer strand; with
    /// `completion_order::arrival`, results reach the collector in arrival
    /// order, which requires every received event to be dispatched.
    void dispatch(event_type&& e, std::optional<duration> timeout,
                  const asio::any_io_executor& where,
                  completion_order order = completion_order::completion);

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
                               completion_order order = completion_order::completion);

    /// `dispatch_ready` for events a strategy holds itself (per_key: the
    /// waiting events of free keys), with a synchronous processor: starts up
    /// to `free` idle workers on `where`, no more than `ready` (the sources
    /// of events that may go to different workers), and deals them runs,
    /// taking turns: `take(run, most)` appends to `run` up to `most` events
    /// that may be processed one after another, in their order, and returns
    /// how many (0 once nothing is left). Each worker counts as one unit in
    /// flight; returns how many events it dealt. An event whose retry must
    /// first wait its backoff continues in a coroutine while its run goes
    /// on (see `retries_wait`).
    template <class Take>
    std::size_t dispatch_runs(std::size_t free, std::size_t ready, std::optional<duration> timeout,
                              const asio::any_io_executor& where, Take&& take,
                              completion_order order = completion_order::completion);

    /// True when a failed attempt may be retried after a backoff: the retry
    /// then waits apart from the run it was part of, and the run's later
    /// events go first.
    bool retries_wait() const noexcept {
        return state_.options.retry != 0 && !state_.options.retry_backoff.immediate();
    }

    /// How many units of work are in flight: a run `dispatch_ready` started,
    /// an event or a batch whose processing continues in a coroutine.
    std::size_t in_flight() const noexcept { return in_flight_.size(); }

    /// Suspends until fewer than `limit` units are in flight (use 1 to wait
    /// for all of them).
    asio::awaitable<void> wait_in_flight_below(std::size_t limit) {
        return in_flight_.wait_below(limit);
    }

    // ----- bookkeeping ---------------------------------------------------------------

    /// Ends `e` as failed for `reason` without processing it: for an event a
    /// strategy cannot process (its key function threw, say).
    void fail(event_type&& e, std::string reason) {
        outcomes_.fail(std::move(e), std::move(reason));
    }

    /// Calls `watcher(sequence, kind)` on the consumer strand as each event's
    /// outcome is recorded, until the returned watch is destroyed: for a
    /// strategy that must know which events ended, such as `per_key`
    /// releasing a key. One watcher at a time; it must not call back into
    /// the receiver.
    [[nodiscard]] outcome_watch watch_outcomes(
        // NOLINTNEXTLINE(performance-unnecessary-value-param): moved from below
        std::function<void(std::uint64_t, outcome)> watcher) {
        auto& slot = outcomes_.outcome_watcher();
        slot = std::move(watcher);
        return outcome_watch(slot);
    }

    /// Ends `e` as cancelled without processing it.
    void cancel(event_type&& e, std::string reason = "the task stopped before it was processed") {
        outcomes_.cancel(std::move(e), std::move(reason));
    }

    /// Publishes the strategy's current choice, and a decision that led to it
    /// (traced when the task's tracing is on). See `strategy_report`.
    void report(std::string current, std::string decision = {}) {
        if (!decision.empty()) {
            detail::trace(state_.options, state_.id(), trace_kind::strategy_decision,
                          "strategy: {}", decision);
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
    void measure_latency() noexcept { outcomes_.measure_latency(); }

    /// One event in this many has its processing latency timed while measuring.
    static constexpr std::uint64_t latency_sample_every = recorder_type::latency_sample_every;

    /// What was measured since the last call, once `measure_latency()` is
    /// on: events finished, and the processing latency of the sampled ones
    /// (for strategies that adapt).
    processing_measurement take_measurement() noexcept { return outcomes_.take_measurement(); }

    /// Waits for the work in flight, then ends every event still to come as
    /// cancelled until the stream is drained. The library calls it when a
    /// strategy returns early or throws.
    asio::awaitable<void> cancel_remaining(std::string reason);

    /// Hands on what waits for the next stage's room and ends the stream of
    /// the task fed (a `forwarding_collector`'s). The library calls it once
    /// every outcome is recorded.
    asio::awaitable<void> finish_outlets() { return outlets_.finish(); }

    /// Hands over everything recorded, and `failure`, why a `failed` task
    /// failed. Called once, at the end.
    final_result<T, Collection, Id> finish(task_status status, task_stats stats,
                                           std::string failure = {}) && {
        return std::move(outcomes_).close(status, stats, std::move(failure));
    }

private:
    /// The longest run of events one worker gets.
    static constexpr std::size_t most_per_worker = 64;

    /// Starts processing `events` (emptied) with a synchronous processor, one
    /// after another in their order, as one unit in flight on `where`. The
    /// results come back together.
    void dispatch_run(std::vector<event_type>& events, std::optional<duration> timeout,
                      const asio::any_io_executor& where, completion_order order);

    using attempt = typename runner_type::single;
    using batch_attempt = typename runner_type::batch;
    using stamp_rule = typename recorder_type::stamp_rule;

    /// What work in flight hands back to the consumer strand: an event's
    /// outcome, or the rest of its attempts when a retry must first wait.
    struct finished {
        event_type e;
        attempt result;
        std::optional<duration> timeout;
        completion_order order;
        bool stamped;  // whether its processing is timed
        /// The interruption entry of the coroutine that ran it, if one did.
        std::shared_ptr<detail::interruptible> entry;
        /// Where the remaining attempts run, when a retry must first wait
        /// (empty otherwise).
        asio::any_io_executor continue_on;
    };

    /// Takes what the in-flight scope hands back (consumer strand).
    struct returned {
        receiver* self;  // the scope lives inside the receiver and goes with it
        void operator()(finished&& f) const { self->take_back(std::move(f)); }
    };

    /// Runs the (remaining) attempts at `e` in a coroutine on `strand`,
    /// interruptible by a stop request; the result comes back through the
    /// in-flight scope. Consumer strand only.
    void spawn_attempts(event_type&& e, attempt&& r, std::optional<duration> timeout,
                        asio::any_io_executor strand, completion_order order, bool stamped);

    /// Records what work in flight handed back: its outcome, or the rest of
    /// its attempts when a retry must first wait.
    void take_back(finished&& f);

    /// Runs the (remaining) attempts at `batch` in a coroutine on the
    /// consumer strand, interruptible by a stop request, where it records
    /// the outcomes itself; one unit in flight until then.
    void spawn_batch_attempts(std::vector<event_type>& batch, batch_attempt&& r,
                              std::optional<duration> timeout);

    /// A strand of `where` for a coroutine processor. Strands are taken in
    /// turn from a ring of `strands_kept` made once per executor rather than
    /// one per event (an allocation each): coroutines sharing one only take
    /// turns for the parts that run between their waits.
    asio::any_io_executor strand_on(const asio::any_io_executor& where);
    static constexpr std::size_t strands_kept = 32;

    /// Moves the payloads of `batch` into the reusable payload buffer and
    /// marks the events started; cancels the batch instead when stopping.
    bool begin_batch(std::vector<event_type>& batch);

    using inbox_type = typename detail::in_flight_scope<finished, returned>::inbox;

    state_type& state_;           // owned by the consumer coroutine that owns this receiver
    detail::outbox_set outlets_;  // before source_, which holds at its gate
    detail::event_source<event_type> source_;
    std::shared_ptr<runner_type> runner_;
    recorder_type outcomes_;
    processor_context<Id> context_;  // for processing in the consumer coroutine
    detail::in_flight_scope<finished, returned> in_flight_;
    std::vector<T> payloads_;  // the current batch's payloads, reused across batches
    // The runs `dispatch_ready` deals out, one per worker it starts.
    std::vector<std::vector<event_type>> runs_;
    asio::any_io_executor strands_on_;  // the executor `strands_` belong to
    std::vector<asio::any_io_executor> strands_;
    std::size_t next_strand_ = 0;
};

/// The receiver of a task of payloads `T` whose processor is a `Processor`.
template <class T, class Collection, class Id, class Processor, class Collector>
using receiver_for =
    receiver<T, Collection, Id, typename detail::processor_traits<Processor, T, Id>::result_type,
             Collector, detail::shape_of<Processor, T, Id>>;

}  // namespace sweet_async

#include <sweet_async/receiver/impl/receiver.hpp>

#endif  // SWEET_ASYNC_RECEIVER_RECEIVER_HPP
