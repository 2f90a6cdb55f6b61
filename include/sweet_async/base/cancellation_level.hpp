// sweet_async/base/cancellation_level.hpp: how abruptly a task is stopped.
#ifndef SWEET_ASYNC_BASE_CANCELLATION_LEVEL_HPP
#define SWEET_ASYNC_BASE_CANCELLATION_LEVEL_HPP

#include <string_view>

#include <sweet_async/base/detail/enum_formatter.hpp>

namespace sweet_async {

/// How `cancel()` stops a task.
enum class cancellation_level {
    graceful,   ///< Accept nothing new; finish every event already sent.
    immediate,  ///< Stop now; events not yet processed end as cancelled.
};

/// The name of the value, as spelled in the enumeration.
constexpr std::string_view to_string(cancellation_level level) noexcept {
    switch (level) {
    case cancellation_level::graceful: return "graceful";
    case cancellation_level::immediate: return "immediate";
    }
    return "unknown";
}

}  // namespace sweet_async

/// The value's name, e.g. "graceful"; takes string format specs such as `{:>9}`.
template <>
struct fmt::formatter<sweet_async::cancellation_level>
    : sweet_async::detail::enum_formatter<sweet_async::cancellation_level> {};

#endif  // SWEET_ASYNC_BASE_CANCELLATION_LEVEL_HPP
