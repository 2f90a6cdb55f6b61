// sweet_async/base/task_priority.hpp: how much a task matters relative to others.
#ifndef SWEET_ASYNC_BASE_TASK_PRIORITY_HPP
#define SWEET_ASYNC_BASE_TASK_PRIORITY_HPP

#include <string_view>

#include <sweet_async/base/detail/enum_formatter.hpp>

namespace sweet_async {

/// A task's priority. It is carried, reported and traced; Asio executors have
/// no notion of priority, so it does not reorder work by itself.
enum class task_priority {
    low,       ///< Background work that may wait.
    normal,    ///< The default.
    high,      ///< Work that should not wait behind normal work.
    critical,  ///< Work that must not wait.
};

/// The name of the value, as spelled in the enumeration.
constexpr std::string_view to_string(task_priority priority) noexcept {
    switch (priority) {
    case task_priority::low: return "low";
    case task_priority::normal: return "normal";
    case task_priority::high: return "high";
    case task_priority::critical: return "critical";
    }
    return "unknown";
}

}  // namespace sweet_async

/// The value's name, e.g. "high"; takes string format specs such as `{:>8}`.
template <>
struct fmt::formatter<sweet_async::task_priority>
    : sweet_async::detail::enum_formatter<sweet_async::task_priority> {};

#endif  // SWEET_ASYNC_BASE_TASK_PRIORITY_HPP
