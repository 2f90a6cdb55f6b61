// sweet_async/base/detail/trace.hpp: hands a task's trace records to its sink.
#ifndef SWEET_ASYNC_BASE_DETAIL_TRACE_HPP
#define SWEET_ASYNC_BASE_DETAIL_TRACE_HPP

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/trace_sink.hpp>

namespace sweet_async::detail {

/// Hands `message` about the task `id_text` of `options` to its sink. Never
/// throws (see `trace`).
inline void emit_trace(const task_options& options, const std::string& id_text, trace_kind kind,
                       std::string_view message) noexcept {
    try {
        const trace_record record{options.name, id_text, kind, message};
        if (options.trace_to) {
            options.trace_to(record);
        } else {
            stderr_trace_sink(record);
        }
    } catch (...) {
    }
}

/// Formats the message and hands a `trace_record` to the task's sink (the
/// default one writes `[sweet_async] task '<name>' <message>` to stderr).
/// Does nothing, formats nothing, when the task's tracing is off; arguments
/// are evaluated by the caller though, so a caller guards with
/// `if (options.tracing)` when one is costly. Never throws: tracing is best
/// effort, and a failing sink (or a failed allocation) must not break the
/// task, so the record is dropped instead.
/// `id`: the task's id, or its text.
template <class Id, class... Args>
void trace(const task_options& options, const Id& id, trace_kind kind,
           fmt::format_string<Args...> format, Args&&... args) noexcept {
    if (!options.tracing) return;
    try {
        if constexpr (std::is_convertible_v<const Id&, const std::string&>) {
            emit_trace(options, id, kind, fmt::format(format, std::forward<Args>(args)...));
        } else {
            emit_trace(options, id.to_string(), kind,
                       fmt::format(format, std::forward<Args>(args)...));
        }
    } catch (...) {
    }
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_TRACE_HPP
