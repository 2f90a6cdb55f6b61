// sweet_async/base/task_stats.hpp: the accounting of an emitting task.
#ifndef SWEET_ASYNC_BASE_TASK_STATS_HPP
#define SWEET_ASYNC_BASE_TASK_STATS_HPP

#include <chrono>
#include <cstddef>
#include <ratio>
#include <string>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// Counts of what happened to a task's events. Once a task has ended,
/// `sent == processed + failed + timed_out + cancelled + dropped` (see
/// `balanced()`).
struct task_stats {
    std::size_t sent = 0;       ///< Events accepted into the channel.
    std::size_t processed = 0;  ///< Events whose processor returned.
    std::size_t failed = 0;     ///< Events whose processor threw on every attempt.
    std::size_t timed_out = 0;  ///< Events that exceeded the per-event timeout.
    std::size_t cancelled = 0;  ///< Events not processed because the task stopped.
    /// Events the channel's overflow policy dropped (`drop_newest`, `drop_oldest`).
    std::size_t dropped = 0;
    std::size_t retries = 0;  ///< Attempts beyond the first, over all events.
    /// Failed and timed-out events handed to the task's dead-letter target
    /// (each also counted as failed or timed out).
    std::size_t dead_lettered = 0;
    /// Time from the start of the task to now (live) or to its end (final).
    std::chrono::nanoseconds elapsed{0};

    /// Events with an outcome so far.
    constexpr std::size_t finished() const noexcept {
        return processed + failed + timed_out + cancelled + dropped;
    }
    /// True when every sent event has exactly one outcome.
    constexpr bool balanced() const noexcept { return sent == finished(); }

    /// Equal when every count is.
    friend constexpr bool operator==(const task_stats&, const task_stats&) = default;
};

}  // namespace sweet_async

/// `sent=4 processed=4 failed=0 timed_out=0 cancelled=0 retries=0 elapsed=1.25ms`, with
/// `dropped=N` and `dead_lettered=N` before `elapsed` when some were.
template <>
struct fmt::formatter<sweet_async::task_stats> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::task_stats& s, fmt::format_context& ctx) const {
        const std::chrono::duration<double, std::milli> elapsed = s.elapsed;
        std::string text =
            fmt::format("sent={} processed={} failed={} timed_out={} cancelled={} retries={} ",
                        s.sent, s.processed, s.failed, s.timed_out, s.cancelled, s.retries);
        if (s.dropped != 0) text += fmt::format("dropped={} ", s.dropped);
        if (s.dead_lettered != 0) text += fmt::format("dead_lettered={} ", s.dead_lettered);
        text += fmt::format("elapsed={:.3f}ms", elapsed.count());
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_BASE_TASK_STATS_HPP
