// sweet_async/base/completion_order.hpp: the order in which results reach the collector.
#ifndef SWEET_ASYNC_BASE_COMPLETION_ORDER_HPP
#define SWEET_ASYNC_BASE_COMPLETION_ORDER_HPP

#include <sweet_async/config.hpp>

#include <string_view>

#include <fmt/format.h>

#include <sweet_async/base/detail/enum_formatter.hpp>

namespace sweet_async {

/// In which order a concurrent strategy hands results to the collector.
enum class completion_order {
    completion,  ///< As they finish (the default: no waiting on slow events).
    arrival,     ///< In the order the events arrived.
};

/// The name of `order`: "completion" or "arrival".
constexpr std::string_view to_string(completion_order order) noexcept {
    switch (order) {
    case completion_order::completion: return "completion";
    case completion_order::arrival: return "arrival";
    }
    return "unknown";
}

}  // namespace sweet_async

/// The value's name, "completion" or "arrival"; takes string format specs.
template <>
struct fmt::formatter<sweet_async::completion_order>
    : sweet_async::detail::enum_formatter<sweet_async::completion_order> {};

#endif  // SWEET_ASYNC_BASE_COMPLETION_ORDER_HPP
