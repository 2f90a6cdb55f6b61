// sweet_async/receiver/detail/task_control.hpp: a task's life, stop requests and accounting,
// whatever it carries.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_TASK_CONTROL_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_TASK_CONTROL_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(post)

#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/base/detail/task_registry.hpp>
#include <sweet_async/base/strategy_report.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/channel/detail/dropped_events.hpp>
#include <sweet_async/receiver/detail/outcome_counts.hpp>

namespace sweet_async::detail {

/// The part of an emitting task's shared state that does not depend on what
/// it carries or collects: its settings, its status, the coordination of stop
/// requests (the listeners, the consumer strand that hears them, abandonment
/// by a dying execution context) and its live accounting. One class for every
/// task type, so that a file compiles it once however many tasks it makes.
///
/// Producers touch only the channel (in `emitting_core`) and `request_stop`;
/// the consumer coroutine owns everything else that changes and publishes
/// counts through relaxed atomics for live stats. Registered with its
/// context's `task_registry`, which calls `abandon()` when the context is
/// destroyed before the task.
class task_control : public abandonable {
public:
    /// `id_text`: the task id's text, for tracing.
    task_control(asio::any_io_executor executor, task_options settings, std::string id_text);

    task_control(const task_control&) = delete;
    task_control& operator=(const task_control&) = delete;

    const task_options options;            ///< The task's settings.
    const asio::any_io_executor executor;  ///< Where the task runs.

    /// The task id's text, as tracing shows it.
    const std::string& id_text() const noexcept { return id_text_; }

    /// A strand of `executor`: the consumer coroutine and the recording of
    /// concurrently processed events run here, so they never overlap. Empty
    /// once the task was abandoned (a strand must not outlive its context).
    /// Code running on the context reads it freely (abandonment happens while
    /// none runs); other threads post through `post_to_consumer`.
    const asio::any_io_executor& consumer_executor() const noexcept { return consumer_executor_; }

    /// Where the task is in its life.
    task_status status() const noexcept { return status_.load(std::memory_order_acquire); }
    /// The consumer settles the status once every event has its outcome.
    void set_status(task_status status) noexcept {
        status_.store(status, std::memory_order_release);
    }

    /// The stop request in force (`none` when there is none).
    stop_request stop() const noexcept { return stop_.load(std::memory_order_acquire); }
    /// True when queued events must end as cancelled instead of processed.
    bool stopping() const noexcept {
        const auto request = stop_.load(std::memory_order_relaxed);
        return request == stop_request::immediate || request == stop_request::deadline;
    }
    /// Why work that a stop interrupted ends cancelled.
    std::string stop_reason() const;

    /// Records a stop request and closes the channel. The first request
    /// wins, except that a graceful stop may escalate: `immediate` or the
    /// deadline then interrupt the coroutine processors in flight. Every
    /// request that takes effect is told to the listeners. Thread-safe.
    void request_stop(stop_request request);

    /// Makes `l` hear stop requests from now on, until it is destroyed. Work
    /// that `l` interrupts must check `stop()` when it starts, for a request
    /// made before this call. Thread-safe.
    void listen_for_stop(std::weak_ptr<stop_listener> l);

    /// Posts `f` to the consumer strand unless the task was abandoned. The
    /// check and the post are one step under a lock, so nothing is posted to
    /// a context that is gone, even by a thread racing with its destruction.
    /// Thread-safe.
    template <class F>
    void post_to_consumer(F&& f) {
        std::lock_guard lock(abandon_mutex_);
        if (!abandoned_.load(std::memory_order_relaxed)) {
            asio::post(consumer_executor_, std::forward<F>(f));
        }
    }

    /// How many events ended each way so far (written by the consumer's ledger).
    outcome_counts& counts() noexcept { return counts_; }
    /// The events the channel's overflow policy dropped (see `dropped_events`).
    dropped_events& drops() noexcept { return drops_; }

    /// Replaces the strategy's current choice and appends `decision` (if any)
    /// to its report. Rare (a strategy's decisions), so a lock is fine.
    void report_strategy(std::string current, std::string decision = {});
    /// What the strategy reported so far.
    sweet_async::strategy_report strategy_report() const;

    /// Fixes `stats().elapsed` at now: the task has ended.
    void freeze_elapsed() noexcept;
    /// Live counts (final ones once the task has ended).
    task_stats stats() const;

    /// The context is being destroyed and this task has not finished (or its
    /// handles outlive the context). Called once by the `task_registry`,
    /// while no handler of the context runs. Parked producers are completed
    /// (`closed`); a running task ends `cancelled`, its unfinished events
    /// counted as cancelled; the strands of the context are released.
    /// Handles stay usable for their non-async members.
    void abandon() noexcept override;

private:
    /// The channel's part of a stop request and of abandonment, and how many
    /// events it accepted: what depends on the task's payload type.
    virtual void close_channel() = 0;
    virtual void abandon_channel() noexcept = 0;
    virtual std::size_t sent() const noexcept = 0;

    void tell_listeners(stop_request request);
    void trace_stop(stop_request request, stop_request before) const noexcept;

    const std::string id_text_;
    asio::any_io_executor consumer_executor_;  // released by abandon()
    const std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
    std::atomic<task_status> status_{task_status::running};
    std::atomic<stop_request> stop_{stop_request::none};
    outcome_counts counts_;
    dropped_events drops_;
    std::atomic<std::chrono::nanoseconds::rep> final_elapsed_{-1};
    // Set by `abandon()`: the context is gone, nothing may be posted to it.
    std::atomic<bool> abandoned_{false};
    // Set by `abandon()` of a running task: every event sent and not finished
    // counts as cancelled.
    std::atomic<bool> unfinished_cancelled_{false};

    mutable std::mutex report_mutex_;
    sweet_async::strategy_report report_;  // guarded by report_mutex_
    std::mutex abandon_mutex_;             // orders posts to the consumer strand before abandonment
    std::vector<std::weak_ptr<stop_listener>> listeners_;  // guarded by abandon_mutex_
};

}  // namespace sweet_async::detail

#include <sweet_async/receiver/detail/impl/task_control.hpp>

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_TASK_CONTROL_HPP
