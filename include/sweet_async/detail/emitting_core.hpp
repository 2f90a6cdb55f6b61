// sweet_async/detail/emitting_core.hpp: what producers, the consumer and handles share.
#ifndef SWEET_ASYNC_DETAIL_EMITTING_CORE_HPP
#define SWEET_ASYNC_DETAIL_EMITTING_CORE_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>

#include <sweet_async/cancellation_level.hpp>
#include <sweet_async/channel.hpp>
#include <sweet_async/dead_letter.hpp>
#include <sweet_async/detail/dropped_events.hpp>
#include <sweet_async/detail/duration_text.hpp>
#include <sweet_async/detail/outbox.hpp>
#include <sweet_async/detail/outcome_counts.hpp>
#include <sweet_async/detail/stop_listener.hpp>
#include <sweet_async/detail/task_registry.hpp>
#include <sweet_async/detail/trace.hpp>
#include <sweet_async/error.hpp>
#include <sweet_async/event.hpp>
#include <sweet_async/strategy_report.hpp>
#include <sweet_async/task_options.hpp>
#include <sweet_async/task_stats.hpp>
#include <sweet_async/task_status.hpp>

namespace sweet_async::detail {

/// The shared state of one emitting task, but for its final result (see
/// `emitting_state`): what a sender needs, whatever the task collects.
/// Producers touch only the channel and the stop request; the consumer
/// coroutine owns everything else that changes, and publishes counts through
/// relaxed atomics for live stats. Registered with its context's
/// `task_registry`, which calls `abandon()` when the context is destroyed
/// before the task.
template <class T, class Id>
class emitting_core : public abandonable {
public:
    using event_type = event<T, Id>;

    /// `stamps_creation`: whether the processor or the strategy may read
    /// `event::created()` of non-final events (see `make_event`).
    emitting_core(asio::any_io_executor executor, task_options settings,
                  bool stamps_creation = true)
        : stamps_creation(stamps_creation),
          options(std::move(settings)),
          id(Id::generate()),
          executor(std::move(executor)),
          consumer_executor(asio::make_strand(this->executor)),
          channel(this->executor, options.capacity) {
        if (options.overflow != overflow_policy::wait) {
            channel.set_overflow(options.overflow, [this](event_type&& e) { drops.add(e.id()); });
        }
    }

    const bool stamps_creation;
    const task_options options;
    const Id id;
    const asio::any_io_executor executor;
    /// A strand of `executor`: the consumer coroutine and the recording of
    /// concurrently processed events run here, so they never overlap. Not
    /// const: `abandon()` releases it, since a strand must not outlive its
    /// context. Code running on the context reads it freely (abandonment
    /// happens while none runs); other threads post through `post_to_consumer`.
    asio::any_io_executor consumer_executor;
    sweet_async::channel<event_type> channel;
    const std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

    std::atomic<task_status> status{task_status::running};
    std::atomic<stop_request> stop{stop_request::none};
    /// Written by the consumer's ledger (and `abandon()`), read for live stats.
    outcome_counts counts;
    std::atomic<std::chrono::nanoseconds::rep> final_elapsed{-1};
    /// Set by `abandon()`: the context is gone, nothing may be posted to it.
    std::atomic<bool> abandoned{false};
    /// Set by `abandon()` of a running task: every event sent and not
    /// finished counts as cancelled.
    std::atomic<bool> unfinished_cancelled{false};
    /// Where the ledger hands failed and timed-out events (empty: nowhere),
    /// and, when that is another task, the outbox that waits for its room.
    /// Set before the consumer starts; the consumer's from then on.
    std::function<void(sweet_async::dead_letter<T>&&)> dead_letter_sink;
    std::shared_ptr<outbox_base> dead_letter_box;
    /// How many linked tasks feed this one and have not ended (fan-in): the
    /// last to end ends this task's stream. Counted when they start.
    std::atomic<std::size_t> feeders{0};

    /// The events the channel's overflow policy dropped (see `dropped_events`).
    dropped_events drops{options.retained_errors};

private:
    mutable std::mutex report_mutex;
    sweet_async::strategy_report report;
    std::mutex abandon_mutex;  // orders posts to the consumer strand before abandonment
    std::vector<std::weak_ptr<stop_listener>> listeners;  // guarded by abandon_mutex

public:
    /// Replaces the current choice and appends `decision` (if any) to the
    /// strategy's report. Rare (a strategy's decisions), so a lock is fine.
    void report_strategy(std::string current, std::string decision = {}) {
        std::lock_guard lock(report_mutex);
        report.current = std::move(current);
        if (decision.empty()) return;
        constexpr std::size_t kept = 64;
        if (report.decisions.size() == kept) report.decisions.erase(report.decisions.begin());
        report.decisions.push_back(std::move(decision));
    }

    sweet_async::strategy_report strategy_report() const {
        std::lock_guard lock(report_mutex);
        return report;
    }

    /// Records a stop request and closes the channel. The first request
    /// wins, except that a graceful stop may escalate: `immediate` or the
    /// deadline then interrupt the coroutine processors in flight. Every
    /// request that takes effect is told to the listeners. Thread-safe.
    void request_stop(stop_request request) {
        auto current = stop.load(std::memory_order_acquire);
        bool took_effect = false;
        while (current == stop_request::none ||
               (current == stop_request::graceful && request != stop_request::graceful)) {
            if (stop.compare_exchange_weak(current, request, std::memory_order_acq_rel)) {
                took_effect = true;
                break;
            }
        }
        // Traced before the channel closes, so the record precedes the
        // task's `ended` one; not after the end (a late cancel is a no-op).
        if (took_effect && options.tracing &&
            status.load(std::memory_order_acquire) == task_status::running) {
            trace_stop(request, current);
        }
        channel.close();
        // The listeners live on the consumer strand. The stop flag is stored
        // before this post, so whatever the strand starts after the
        // interruption sees `stopping()` and does not begin.
        if (took_effect) tell_listeners(request);
    }

    /// Makes `l` hear stop requests from now on, until it is destroyed. Work
    /// that `l` interrupts must check `stop` when it starts, for a request
    /// made before this call. Thread-safe.
    void listen_for_stop(std::weak_ptr<stop_listener> l) {
        std::lock_guard lock(abandon_mutex);
        std::erase_if(listeners, [](const auto& w) { return w.expired(); });
        listeners.push_back(std::move(l));
    }

    /// Posts `f` to the consumer strand unless the task was abandoned. The
    /// check and the post are one step under `abandon_mutex`, so nothing is
    /// posted to a context that is gone, even by a thread racing with its
    /// destruction. Thread-safe.
    template <class F>
    void post_to_consumer(F&& f) {
        std::lock_guard lock(abandon_mutex);
        if (!abandoned.load(std::memory_order_relaxed)) {
            asio::post(consumer_executor, std::forward<F>(f));
        }
    }

    /// Posts `request` to the listeners, on the consumer strand, unless the
    /// task was abandoned (what was in flight then goes with the context).
    void tell_listeners(stop_request request) {
        std::lock_guard lock(abandon_mutex);
        if (abandoned.load(std::memory_order_relaxed) || listeners.empty()) return;
        asio::post(consumer_executor, [told = listeners, request] {
            for (const auto& l : told) {
                if (auto alive = l.lock()) alive->stop_requested(request);
            }
        });
    }

    /// The context is being destroyed and this task has not finished (or its
    /// handles outlive the context). Called once by the `task_registry`,
    /// while no handler of the context runs. Parked producers are completed
    /// (`closed`); a running task ends `cancelled`, its unfinished events
    /// counted as cancelled; the strands of the context are released. Handles
    /// stay usable for their non-async members. `emitting_state` completes
    /// the waiters for the result too.
    void abandon() noexcept override {
        asio::any_io_executor strand;
        {
            std::lock_guard lock(abandon_mutex);
            abandoned.store(true, std::memory_order_relaxed);  // read under the lock, or after it
            strand = std::exchange(consumer_executor, asio::any_io_executor());
        }
        // Completes the consumer's wait (its handler belongs to this context:
        // Asio destroys it unrun) and every parked sender (`closed`; those of
        // other contexts run), and waits out wakes that other threads began.
        channel.abandon();
        auto running = task_status::running;
        if (status.compare_exchange_strong(running, task_status::cancelled,
                                           std::memory_order_acq_rel)) {
            // The consumer never runs again: what it did not finish stays
            // accounted for, as cancelled. Counted when read (see `stats`), not
            // now: a send whose element is still being made may yet turn out
            // to be a hole, which takes itself out of `sent`.
            const task_stats so_far = stats();
            const std::size_t unfinished =
                so_far.sent > so_far.finished() ? so_far.sent - so_far.finished() : 0;
            unfinished_cancelled.store(true, std::memory_order_release);
            freeze_elapsed();
            trace(options, id, trace_kind::abandoned,
                  "abandoned: its execution context was destroyed; {} unfinished "
                  "events counted as cancelled",
                  unfinished);
        }
    }

    /// Traces a stop request that took effect; `before` is the request it
    /// replaced (`graceful` when it escalates one).
    void trace_stop(stop_request request, stop_request before) const noexcept {
        const std::string_view escalation =
            before == stop_request::graceful ? " (escalates graceful)" : "";
        switch (request) {
        case stop_request::none: break;
        case stop_request::graceful:
        case stop_request::immediate:
            trace(options, id, trace_kind::cancel_requested, "cancel requested: {}{}",
                  request == stop_request::graceful ? cancellation_level::graceful
                                                    : cancellation_level::immediate,
                  escalation);
            break;
        case stop_request::deadline:
            try {  // duration_text allocates; tracing is best effort
                trace(options, id, trace_kind::deadline_reached, "deadline reached: timeout {}{}",
                      duration_text(options.timeout.value_or(std::chrono::nanoseconds::zero())),
                      escalation);
            } catch (...) {
            }
            break;
        }
    }

    /// True when queued events must end as cancelled instead of processed.
    bool stopping() const noexcept {
        const auto request = stop.load(std::memory_order_relaxed);
        return request == stop_request::immediate || request == stop_request::deadline;
    }

    /// Why work that a stop interrupted ends cancelled.
    std::string stop_reason() const {
        return stop.load(std::memory_order_acquire) == stop_request::deadline
                   ? "the task's deadline passed"
                   : "the task was cancelled (immediate)";
    }

    /// A new event of this task. The creation time is taken only where it
    /// can be read: a final event is handed back in the result.
    event_type make_event(T payload, sweet_async::streaming_event_type type) const {
        if (stamps_creation || sweet_async::is_final(type))
            return event_type(id, std::move(payload), type);
        return event_access::unstamped(id, std::move(payload), type);
    }

    /// A new event of this task that keeps the id `id` a previous stage of a
    /// flow gave it, so that one event can be followed through the flow.
    event_type make_event(T payload, sweet_async::streaming_event_type type, const uuid& id) const {
        return event_access::with_id(id, this->id, std::move(payload), type,
                                     stamps_creation || sweet_async::is_final(type));
    }

    /// Fixes `stats().elapsed` at now: the task has ended.
    void freeze_elapsed() noexcept {
        const auto elapsed = std::chrono::steady_clock::now() - started_at;
        final_elapsed.store(std::chrono::nanoseconds(elapsed).count(), std::memory_order_release);
    }

    /// Live counts (final ones once the task has ended).
    task_stats stats() const {
        task_stats s;
        counts.read_into(s);
        s.dropped = drops.count.load(std::memory_order_relaxed);
        s.sent = channel.sent();
        if (unfinished_cancelled.load(std::memory_order_acquire) && s.sent > s.finished()) {
            s.cancelled += s.sent - s.finished();
        }
        const auto end = final_elapsed.load(std::memory_order_acquire);
        s.elapsed = end >= 0 ? std::chrono::nanoseconds(end)
                             : std::chrono::steady_clock::now() - started_at;
        return s;
    }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_EMITTING_CORE_HPP
