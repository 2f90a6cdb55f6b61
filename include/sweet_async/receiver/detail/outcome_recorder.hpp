// sweet_async/receiver/detail/outcome_recorder.hpp: attempts turned into outcomes in the ledger.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_OUTCOME_RECORDER_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_OUTCOME_RECORDER_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/completion_order.hpp>
#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/processing_measurement.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/receiver/detail/attempt_runner.hpp>
#include <sweet_async/receiver/detail/ledger.hpp>
#include <sweet_async/receiver/detail/reorder_ring.hpp>
#include <sweet_async/receiver/detail/task_ledger.hpp>

namespace sweet_async::detail {

/// The one way an attempt's end becomes an event's outcome: `record` turns
/// where the attempts stand (a result, a failure, an overrun, an
/// interruption) into one entry of the ledger, holding results back for
/// arrival order where asked, and samples processing latency for strategies
/// that measure it. Consumer strand only.
template <class State, class Collector, class Result>
class outcome_recorder {
    using T = typename State::event_type::payload_type;
    using Id = typename State::event_type::task_id_type;
    using Collection = typename Collector::collection_type;

public:
    using event_type = event<T, Id>;
    using duration = std::chrono::nanoseconds;
    using single = attempt_result<Result>;
    using batch = attempt_result<std::vector<Result>>;

    /// `stamps_every_event`: the processor reads the whole event, so each one
    /// is timed (see `stamps`).
    outcome_recorder(State& state, Collector collector, bool stamps_every_event)
        : state_(state),
          ledger_(task_ledger<Collection>(state, std::move(collector))),
          stamps_every_event_(stamps_every_event) {}

    /// Records the outcome of `e`, whose attempts ended as `r`.
    void record(event_type&& e, single&& r, std::optional<duration> timeout) {
        if (r.cancelled) {
            if (r.made == 0)
                return cancel(std::move(e), "the task stopped before it was processed");
            return cancel(std::move(e), "interrupted: " + state_.stop_reason(), r.made);
        }
        measure(e);
        if (r.overran) {
            time_out(std::move(e), *timeout, r.made);
        } else if (!r.result) {
            ledger_.unprocessed(std::move(e), outcome::failed, std::move(r.error), r.made);
        } else {
            ledger_.processed(std::move(e), std::move(*r.result));
        }
    }

    /// Like `record`, in `order`: with arrival order, a result that overtook
    /// earlier events waits until those are in (every received event must
    /// then be recorded this way).
    void record(event_type&& e, single&& r, std::optional<duration> timeout,
                completion_order order) {
        if (order == completion_order::completion)
            return record(std::move(e), std::move(r), timeout);
        const std::uint64_t sequence = e.sequence();  // before `e` moves
        in_order_.arrive(sequence, held{std::move(e), std::move(r), timeout}, [this](held&& ready) {
            record(std::move(ready.e), std::move(ready.result), ready.timeout);
        });
    }

    /// Gives every event of `events` its outcome from one attempt at them
    /// all (`payloads` in the same order; the final event gets its payload
    /// back whatever its outcome), and clears `events`. A processor that
    /// returned a wrong number of results fails them all.
    void record(std::vector<event_type>& events, std::vector<T>& payloads, batch&& r,
                std::optional<duration> timeout) {
        const auto completed = event_clock::now();
        if (r.result && r.result->size() != events.size()) {
            r.error = fmt::format("the batch processor returned {} results for {} events",
                                  r.result->size(), events.size());
            r.result.reset();
        }
        for (std::size_t i = 0; i < events.size(); ++i) {
            event_type& e = events[i];
            event_access::mark_completed(e, completed);
            // The final event goes back whole; a failed one keeps its payload
            // for its dead letter.
            if (e.is_final() || !r.result) e.payload() = std::move(payloads[i]);
            if (r.cancelled) {
                cancel(std::move(e), "interrupted: " + state_.stop_reason(), r.made);
                continue;
            }
            measure(e);
            if (r.overran) {
                time_out(std::move(e), *timeout, r.made);
            } else if (!r.result) {
                ledger_.unprocessed(std::move(e), outcome::failed, r.error, r.made);
            } else {
                ledger_.processed(std::move(e), std::move((*r.result)[i]));
            }
        }
        events.clear();
    }

    /// The outboxes of a collector that feeds other tasks (none otherwise).
    std::vector<std::shared_ptr<outbox_base>> outboxes() const { return ledger_.outboxes(); }

    /// Ends `e` failed for `reason`, without an attempt.
    void fail(event_type&& e, std::string reason) {
        stamp_completed(e);
        ledger_.unprocessed(std::move(e), outcome::failed, std::move(reason), 0);
    }

    /// The ledger's watcher of outcomes (see `ledger::outcome_watcher`).
    auto& outcome_watcher() noexcept { return ledger_.outcome_watcher(); }

    /// Ends `e` cancelled for `reason`, after `attempts` attempts.
    void cancel(event_type&& e, std::string reason, unsigned attempts = 0) {
        stamp_completed(e);
        ledger_.unprocessed(std::move(e), outcome::cancelled, std::move(reason), attempts);
    }

    // ----- timing ----------------------------------------------------------------------

    /// Which events have their processing timed. Timestamps are taken only
    /// where someone can read them: the final event (it is handed back),
    /// processors that see the whole event, and one event in
    /// `latency_sample_every` while measuring. For the rest, nobody can tell,
    /// and the flowing path saves two clock reads per event. A copy, so that
    /// work on other threads can apply it.
    struct stamp_rule {
        bool every = false;
        bool measuring = false;

        bool operator()(const event_type& e) const noexcept {
            return every || e.is_final() || (measuring && e.sequence() % latency_sample_every == 0);
        }
    };

    stamp_rule stamping() const noexcept { return {stamps_every_event_, measuring_}; }

    bool stamps(const event_type& e) const noexcept { return stamping()(e); }

    void stamp_completed(event_type& e) const noexcept {
        if (stamps(e)) event_access::mark_completed(e, event_clock::now());
    }

    /// One event in this many has its processing latency timed while measuring.
    static constexpr std::uint64_t latency_sample_every = 16;

    /// Measures from now on (see `take_measurement`).
    void measure_latency() noexcept { measuring_ = true; }

    /// What was measured since the last call.
    processing_measurement take_measurement() noexcept { return std::exchange(measured_, {}); }

    /// Hands over everything recorded. Called once, at the end.
    final_result<T, Collection, Id> close(task_status status, task_stats stats,
                                          std::string failure) && {
        return close_task_ledger(std::move(ledger_), state_, status, stats, std::move(failure));
    }

private:
    /// A result held back until the events before it have theirs.
    struct held {
        event_type e;
        single result;
        std::optional<duration> timeout;
    };

    void time_out(event_type&& e, duration timeout, unsigned attempts) {
        // Past the retention limit the message would be dropped unread.
        std::string message = ledger_.retains_errors()
                                  ? fmt::format("processing took longer than the timeout of {}",
                                                duration_text(timeout))
                                  : std::string();
        ledger_.unprocessed(std::move(e), outcome::timed_out, std::move(message), attempts);
    }

    void measure(const event_type& e) noexcept {
        if (!measuring_) return;
        ++measured_.finished;
        if (e.started() && e.completed()) {
            ++measured_.latency_samples;
            measured_.total_latency += *e.completed() - *e.started();
        }
    }

    State& state_;
    ledger<T, Collection, Id, Collector> ledger_;
    reorder_ring<held> in_order_;
    processing_measurement measured_;
    bool measuring_ = false;
    const bool stamps_every_event_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_OUTCOME_RECORDER_HPP
