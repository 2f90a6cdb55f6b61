// sweet_async/detail/plain_formatter.hpp: the base of formatters that take no format spec.
#ifndef SWEET_ASYNC_DETAIL_PLAIN_FORMATTER_HPP
#define SWEET_ASYNC_DETAIL_PLAIN_FORMATTER_HPP

#include <fmt/format.h>

namespace sweet_async::detail {

/// For `fmt::formatter` specialisations of composite types, which are written
/// one way only (`{}`): derive and define `format`.
struct plain_formatter {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_PLAIN_FORMATTER_HPP
