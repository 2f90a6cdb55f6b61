// sweet_async/base/task_options.hpp: the settings every task has.
#ifndef SWEET_ASYNC_BASE_TASK_OPTIONS_HPP
#define SWEET_ASYNC_BASE_TASK_OPTIONS_HPP

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <sweet_async/base/backoff.hpp>
#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/base/overflow_policy.hpp>
#include <sweet_async/base/task_priority.hpp>
#include <sweet_async/base/throttle.hpp>
#include <sweet_async/base/trace_sink.hpp>

namespace sweet_async {

/// The settings of a task, as the builders fill them in.
struct task_options {
    /// Shown in tracing, statistics and error messages.
    std::string name = "task";
    /// Deadline for the whole task; none by default.
    std::optional<std::chrono::nanoseconds> timeout{};
    /// Extra attempts after a failure (per event, for emitting tasks).
    unsigned retry = 0;
    /// The wait before each retry; none by default.
    backoff retry_backoff{};
    /// Traces the task's lifecycle and its strategy's decisions when set.
    bool tracing = false;
    /// Where traces go when `tracing` is set; empty: `stderr_trace_sink`.
    trace_sink trace_to{};
    /// Carried and traced; does not reorder work (see `task_priority`).
    task_priority priority = task_priority::normal;
    /// Channel capacity of emitting tasks.
    std::size_t capacity = 100;
    /// Event errors an emitting task's final result keeps in full; the rest
    /// are counted only.
    std::size_t retained_errors = 1000;
    /// What a send into an emitting task's full channel does (`wait` by default).
    overflow_policy overflow = overflow_policy::wait;
    /// The pace at which an emitting task takes events off its channel; none by default.
    std::optional<sweet_async::throttle> throttle{};

    /// Throws `async_task_exception` (`invalid_configuration`) naming the
    /// first field whose value cannot work.
    void validate() const {
        require_positive("timeout", timeout);
        if (throttle) {
            if (throttle->events == 0) throw invalid("throttle.events must be at least 1, got 0");
            require_positive("throttle.per", throttle->per);
            if (throttle->burst == 0) throw invalid("throttle.burst must be at least 1, got 0");
            if (throttle->interval() <= std::chrono::nanoseconds::zero()) {
                throw invalid(
                    fmt::format("throttle of {} events per {} is finer than 1ns per event",
                                throttle->events, detail::duration_text(throttle->per)));
            }
        }
        if (capacity == 0) throw invalid("capacity must be at least 1, got 0");
        if (retry_backoff.initial < std::chrono::nanoseconds::zero()) {
            throw invalid(fmt::format("retry_backoff.initial must not be negative, got {}",
                                      detail::duration_text(retry_backoff.initial)));
        }
        if (!(retry_backoff.multiplier >= 1.0)) {  // also rejects NaN
            throw invalid(fmt::format("retry_backoff.multiplier must be at least 1, got {}",
                                      retry_backoff.multiplier));
        }
        if (retry_backoff.max < retry_backoff.initial) {
            throw invalid(fmt::format("retry_backoff.max must be at least retry_backoff.initial "
                                      "({}), got {}",
                                      detail::duration_text(retry_backoff.initial),
                                      detail::duration_text(retry_backoff.max)));
        }
    }

    /// Throws `invalid(...)` naming `field` unless `value` is positive.
    void require_positive(std::string_view field, std::chrono::nanoseconds value) const {
        if (value <= std::chrono::nanoseconds::zero()) {
            throw invalid(
                fmt::format("{} must be positive, got {}", field, detail::duration_text(value)));
        }
    }

    /// Like the above for an optional duration: empty is fine.
    void require_positive(std::string_view field,
                          const std::optional<std::chrono::nanoseconds>& value) const {
        if (value) require_positive(field, *value);
    }

    /// An `invalid_configuration` exception whose message names this task.
    async_task_exception invalid(const std::string& what) const {
        return async_task_exception(async_task_error::invalid_configuration,
                                    fmt::format("task '{}': {}", name, what));
    }
};

}  // namespace sweet_async

/// "task_options(name='fetch', timeout=50ms, retry=2, retry_backoff=backoff(none),
/// tracing=stderr, priority=normal, capacity=100, retained_errors=1000)"; `timeout=none` when
/// unset, `tracing` is off, stderr, or custom (a sink of the user's); `, overflow=...` and
/// `, throttle(...)` at the end when set.
template <>
struct fmt::formatter<sweet_async::task_options> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::task_options& o, fmt::format_context& ctx) const {
        const std::string_view tracing = !o.tracing ? "off" : o.trace_to ? "custom" : "stderr";
        std::string text = fmt::format(
            "task_options(name='{}', timeout={}, retry={}, retry_backoff={}, "
            "tracing={}, priority={}, capacity={}, retained_errors={}",
            o.name, o.timeout ? sweet_async::detail::duration_text(*o.timeout) : "none", o.retry,
            o.retry_backoff, tracing, o.priority, o.capacity, o.retained_errors);
        if (o.overflow != sweet_async::overflow_policy::wait)
            text += fmt::format(", overflow={}", o.overflow);
        if (o.throttle) text += fmt::format(", {}", *o.throttle);
        text += ')';
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_BASE_TASK_OPTIONS_HPP
