// sweet_async/receiver/detail/impl/task_control.hpp: how a task's stop requests and accounting
// work.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_IMPL_TASK_CONTROL_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_IMPL_TASK_CONTROL_HPP

#include <sweet_async/config.hpp>

#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER(strand)

#include <sweet_async/base/cancellation_level.hpp>
#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/trace.hpp>
#include <sweet_async/receiver/detail/task_control.hpp>

namespace sweet_async::detail {

inline task_control::task_control(asio::any_io_executor executor, task_options settings,
                                  std::string id_text)
    : options(std::move(settings)),
      executor(std::move(executor)),
      id_text_(std::move(id_text)),
      consumer_executor_(asio::make_strand(this->executor)),
      drops_(options.retained_errors) {}

inline std::string task_control::stop_reason() const {
    return stop_.load(std::memory_order_acquire) == stop_request::deadline
               ? "the task's deadline passed"
               : "the task was cancelled (immediate)";
}

inline void task_control::request_stop(stop_request request) {
    auto current = stop_.load(std::memory_order_acquire);
    bool took_effect = false;
    while (current == stop_request::none ||
           (current == stop_request::graceful && request != stop_request::graceful)) {
        if (stop_.compare_exchange_weak(current, request, std::memory_order_acq_rel)) {
            took_effect = true;
            break;
        }
    }
    // Traced before the channel closes, so the record precedes the task's
    // `ended` one; not after the end (a late cancel is a no-op).
    if (took_effect && options.tracing && status() == task_status::running)
        trace_stop(request, current);
    close_channel();
    // The listeners live on the consumer strand. The stop flag is stored
    // before this post, so whatever the strand starts after the interruption
    // sees `stopping()` and does not begin.
    if (took_effect) tell_listeners(request);
}

inline void task_control::listen_for_stop(std::weak_ptr<stop_listener> l) {
    std::lock_guard lock(abandon_mutex_);
    std::erase_if(listeners_, [](const auto& w) { return w.expired(); });
    listeners_.push_back(std::move(l));
}

/// Posts `request` to the listeners, on the consumer strand, unless the task
/// was abandoned (what was in flight then goes with the context).
inline void task_control::tell_listeners(stop_request request) {
    std::lock_guard lock(abandon_mutex_);
    if (abandoned_.load(std::memory_order_relaxed) || listeners_.empty()) return;
    asio::post(consumer_executor_, [told = listeners_, request] {
        for (const auto& l : told) {
            if (auto alive = l.lock()) alive->stop_requested(request);
        }
    });
}

inline void task_control::report_strategy(std::string current, std::string decision) {
    std::lock_guard lock(report_mutex_);
    report_.current = std::move(current);
    if (decision.empty()) return;
    constexpr std::size_t kept = 64;
    if (report_.decisions.size() == kept) report_.decisions.erase(report_.decisions.begin());
    report_.decisions.push_back(std::move(decision));
}

inline sweet_async::strategy_report task_control::strategy_report() const {
    std::lock_guard lock(report_mutex_);
    return report_;
}

inline void task_control::freeze_elapsed() noexcept {
    const auto elapsed = std::chrono::steady_clock::now() - started_at_;
    final_elapsed_.store(std::chrono::nanoseconds(elapsed).count(), std::memory_order_release);
}

inline task_stats task_control::stats() const {
    task_stats s;
    counts_.read_into(s);
    s.dropped = drops_.count.load(std::memory_order_relaxed);
    s.sent = sent();
    if (unfinished_cancelled_.load(std::memory_order_acquire) && s.sent > s.finished()) {
        s.cancelled += s.sent - s.finished();
    }
    const auto end = final_elapsed_.load(std::memory_order_acquire);
    s.elapsed =
        end >= 0 ? std::chrono::nanoseconds(end) : std::chrono::steady_clock::now() - started_at_;
    return s;
}

inline void task_control::abandon() noexcept {
    asio::any_io_executor strand;
    {
        std::lock_guard lock(abandon_mutex_);
        abandoned_.store(true, std::memory_order_relaxed);  // read under the lock, or after it
        strand = std::exchange(consumer_executor_, asio::any_io_executor());
    }
    // Completes the consumer's wait (its handler belongs to this context:
    // Asio destroys it unrun) and every parked sender (`closed`; those of
    // other contexts run), and waits out wakes that other threads began.
    abandon_channel();
    auto running = task_status::running;
    if (status_.compare_exchange_strong(running, task_status::cancelled,
                                        std::memory_order_acq_rel)) {
        // The consumer never runs again: what it did not finish stays
        // accounted for, as cancelled. Counted when read (see `stats`), not
        // now: a send whose element is still being made may yet turn out to
        // be a hole, which takes itself out of `sent`.
        const task_stats so_far = stats();
        const std::size_t unfinished =
            so_far.sent > so_far.finished() ? so_far.sent - so_far.finished() : 0;
        unfinished_cancelled_.store(true, std::memory_order_release);
        freeze_elapsed();
        trace(options, id_text_, trace_kind::abandoned,
              "abandoned: its execution context was destroyed; {} unfinished "
              "events counted as cancelled",
              unfinished);
    }
}

/// Traces a stop request that took effect; `before` is the request it
/// replaced (`graceful` when it escalates one).
inline void task_control::trace_stop(stop_request request, stop_request before) const noexcept {
    const std::string_view escalation =
        before == stop_request::graceful ? " (escalates graceful)" : "";
    switch (request) {
    case stop_request::none: break;
    case stop_request::graceful:
    case stop_request::immediate:
        trace(options, id_text_, trace_kind::cancel_requested, "cancel requested: {}{}",
              request == stop_request::graceful ? cancellation_level::graceful
                                                : cancellation_level::immediate,
              escalation);
        break;
    case stop_request::deadline:
        try {  // duration_text allocates; tracing is best effort
            trace(options, id_text_, trace_kind::deadline_reached, "deadline reached: timeout {}{}",
                  duration_text(options.timeout.value_or(std::chrono::nanoseconds::zero())),
                  escalation);
        } catch (...) {
        }
        break;
    }
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_IMPL_TASK_CONTROL_HPP
