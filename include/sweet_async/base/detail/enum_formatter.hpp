// sweet_async/base/detail/enum_formatter.hpp: {fmt} support for the library's enumerations.
#ifndef SWEET_ASYNC_BASE_DETAIL_ENUM_FORMATTER_HPP
#define SWEET_ASYNC_BASE_DETAIL_ENUM_FORMATTER_HPP

#include <string_view>

#include <fmt/format.h>

namespace sweet_async::detail {

/// Formats an enumeration through its `to_string` (found by argument-dependent
/// lookup), accepting every string format spec (width, alignment, ...).
template <class Enum>
struct enum_formatter : fmt::formatter<std::string_view> {
    auto format(Enum value, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(value), ctx);
    }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_ENUM_FORMATTER_HPP
