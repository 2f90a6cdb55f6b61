// sweet_async/base/detail/plain_formatter.hpp: how the library's formatters write their text.
#ifndef SWEET_ASYNC_BASE_DETAIL_PLAIN_FORMATTER_HPP
#define SWEET_ASYNC_BASE_DETAIL_PLAIN_FORMATTER_HPP

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

namespace sweet_async::detail {

/// Copies `text` to a formatter's output.
///
/// The library's formatters make their text with `fmt::format`, which runs in {fmt}'s compiled
/// library (`fmt::vformat`), and only copy it here. `fmt::format_to(ctx.out(), ...)` would
/// instead instantiate {fmt}'s whole formatting engine (`fmt::detail::vformat_to`, integer and
/// floating-point writers) in every file that formats one of our values: measured, 80 KB of
/// object code and 2.5 s of a -O2 compile for one formatter.
inline fmt::format_context::iterator write_text(fmt::format_context& ctx, std::string_view text) {
    return std::copy(text.begin(), text.end(), ctx.out());
}

/// For `fmt::formatter` specialisations of composite types, which are written one way only
/// (`{}`): derive, and define `format(const T&, fmt::format_context&) const` with `write_text`.
struct plain_formatter {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_PLAIN_FORMATTER_HPP
