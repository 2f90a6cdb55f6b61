// sweet_async/base/trace_sink.hpp: where a task's tracing goes.
#ifndef SWEET_ASYNC_BASE_TRACE_SINK_HPP
#define SWEET_ASYNC_BASE_TRACE_SINK_HPP

#include <cstdio>
#include <functional>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include <sweet_async/base/detail/enum_formatter.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// What a trace record is about.
enum class trace_kind {
    started,            ///< The task was started (id, strategy, capacity, priority).
    strategy_decision,  ///< The strategy changed or confirmed its choice (`receiver::report`).
    cancel_requested,   ///< `cancel()` took effect (with the level for emitting tasks).
    deadline_reached,   ///< The task's timeout expired.
    strategy_failed,    ///< The strategy threw or gave up before the stream ended.
    emitter_failed,     ///< One of the task's emitters threw; the stream was closed.
    abandoned,          ///< The execution context was destroyed before the task ended.
    ended,              ///< The task ended (status, and statistics for emitting tasks).
};

/// The name of `kind`, as spelled in the enumeration.
constexpr std::string_view to_string(trace_kind kind) noexcept {
    switch (kind) {
    case trace_kind::started: return "started";
    case trace_kind::strategy_decision: return "strategy_decision";
    case trace_kind::cancel_requested: return "cancel_requested";
    case trace_kind::deadline_reached: return "deadline_reached";
    case trace_kind::strategy_failed: return "strategy_failed";
    case trace_kind::emitter_failed: return "emitter_failed";
    case trace_kind::abandoned: return "abandoned";
    case trace_kind::ended: return "ended";
    }
    return "unknown";
}

/// One traced step of one task. The views are valid only during the sink
/// call (they point into the task and into a buffer of the caller): a sink
/// that keeps a record copies what it needs.
struct trace_record {
    /// The task's name (`.name(...)`).
    std::string_view task_name{};
    /// The task id's text form (`Id::to_string()`).
    std::string_view task_id{};
    /// What happened.
    trace_kind kind = trace_kind::started;
    /// The human-readable detail, e.g. `"cancel requested: graceful"` or
    /// `"completed: sent=4 processed=4 ..."`; the text the default sink
    /// writes after the task's name.
    std::string_view message{};
};

/// Receives the trace records of the tasks it is installed on.
///
/// Contract: it may be called concurrently from several threads (the
/// consumer strand, threads calling `cancel()`, the thread destroying the
/// execution context), so it must be thread-safe. It should be quick, since
/// it runs inline on those threads. It may throw: tracing is best effort, so
/// the exception is swallowed and the task goes on. It is never called
/// when the task's tracing is off, and nothing is formatted then.
using trace_sink = std::function<void(const trace_record&)>;

}  // namespace sweet_async

/// The value's name, e.g. "cancel_requested"; takes string format specs such as `{:<17}`.
template <>
struct fmt::formatter<sweet_async::trace_kind>
    : sweet_async::detail::enum_formatter<sweet_async::trace_kind> {};

/// `[sweet_async] task '<name>' <message>`: the line of the default sink,
/// without the newline.
template <>
struct fmt::formatter<sweet_async::trace_record> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::trace_record& record, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("[sweet_async] task '{}' {}", record.task_name, record.message));
    }
};

namespace sweet_async {

/// The default sink: writes ``[sweet_async] task '<name>' <message>`` and a
/// newline to stderr in a single `fwrite`, so that lines written from
/// several threads do not interleave.
inline void stderr_trace_sink(const trace_record& record) {
    const std::string line = fmt::format("{}\n", record);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace sweet_async

#endif  // SWEET_ASYNC_BASE_TRACE_SINK_HPP
