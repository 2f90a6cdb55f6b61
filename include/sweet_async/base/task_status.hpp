// sweet_async/base/task_status.hpp: where a task is in its life.
#ifndef SWEET_ASYNC_BASE_TASK_STATUS_HPP
#define SWEET_ASYNC_BASE_TASK_STATUS_HPP

#include <string_view>

#include <sweet_async/base/detail/enum_formatter.hpp>

namespace sweet_async {

/// The life of a task: `pending` until it starts, `running`, then exactly one
/// terminal status.
enum class task_status {
    pending,    ///< Built but not started.
    running,    ///< Accepting or processing work.
    completed,  ///< Finished; every event has its outcome.
    failed,     ///< Stopped by an error outside the user's processor.
    cancelled,  ///< Stopped by `cancel()`.
    timed_out,  ///< Stopped by the whole-task timeout.
};

/// True for the statuses a task never leaves.
constexpr bool is_terminal(task_status status) noexcept {
    return status != task_status::pending && status != task_status::running;
}

/// The name of the value, as spelled in the enumeration.
constexpr std::string_view to_string(task_status status) noexcept {
    switch (status) {
    case task_status::pending: return "pending";
    case task_status::running: return "running";
    case task_status::completed: return "completed";
    case task_status::failed: return "failed";
    case task_status::cancelled: return "cancelled";
    case task_status::timed_out: return "timed_out";
    }
    return "unknown";
}

}  // namespace sweet_async

/// The value's name, e.g. "timed_out"; takes string format specs such as `{:<9}`.
template <>
struct fmt::formatter<sweet_async::task_status>
    : sweet_async::detail::enum_formatter<sweet_async::task_status> {};

#endif  // SWEET_ASYNC_BASE_TASK_STATUS_HPP
