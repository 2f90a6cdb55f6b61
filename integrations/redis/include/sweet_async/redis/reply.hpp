// sweet_async/redis/reply.hpp: a Redis reply as a value.
#ifndef SWEET_ASYNC_REDIS_REPLY_HPP
#define SWEET_ASYNC_REDIS_REPLY_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/detail/enum_formatter.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>

#include <hiredis/hiredis.h>

namespace sweet_async::redis {

/// What kind of value a reply is (RESP2's five, nil apart).
enum class reply_kind {
    nil,      ///< A missing value (`$-1`, `*-1`).
    status,   ///< A simple string such as "OK" or "PONG".
    error,    ///< The server refused the command: `text` says why.
    integer,  ///< A number (`:42`).
    string,   ///< A bulk string, binary-safe.
    array,    ///< Nested replies (`elements`).
};

/// The name of the value, as spelled in the enumeration.
constexpr std::string_view to_string(reply_kind kind) noexcept {
    switch (kind) {
    case reply_kind::nil: return "nil";
    case reply_kind::status: return "status";
    case reply_kind::error: return "error";
    case reply_kind::integer: return "integer";
    case reply_kind::string: return "string";
    case reply_kind::array: return "array";
    }
    return "unknown";
}

/// One reply of the server, copied out of hiredis's parse tree so that it
/// owns its text and can move between threads.
struct reply {
    /// Which of the members below holds the value (`nil` has none).
    reply_kind kind = reply_kind::nil;
    /// The text of a status, an error or a bulk string.
    std::string text{};
    /// The number of an integer reply.
    std::int64_t integer = 0;
    /// The elements of an array reply.
    std::vector<reply> elements{};

    /// A copy of hiredis's reply `r` (which the caller still frees).
    static reply from(const redisReply& r) {
        reply out;
        switch (r.type) {
        case REDIS_REPLY_STATUS: out.kind = reply_kind::status; break;
        case REDIS_REPLY_ERROR: out.kind = reply_kind::error; break;
        case REDIS_REPLY_INTEGER:
            out.kind = reply_kind::integer;
            out.integer = r.integer;
            return out;
        case REDIS_REPLY_STRING: out.kind = reply_kind::string; break;
        case REDIS_REPLY_ARRAY:
            out.kind = reply_kind::array;
            out.elements.reserve(r.elements);
            for (std::size_t i = 0; i < r.elements; ++i)
                out.elements.push_back(from(*r.element[i]));
            return out;
        default: return out;  // nil
        }
        out.text.assign(r.str, r.len);
        return out;
    }

    /// True for an error reply.
    bool is_error() const noexcept { return kind == reply_kind::error; }
    /// True for a nil reply.
    bool is_nil() const noexcept { return kind == reply_kind::nil; }

    /// The text of a status or bulk string reply; none for the other kinds.
    std::optional<std::string_view> as_text() const noexcept {
        if (kind == reply_kind::status || kind == reply_kind::string) return text;
        return std::nullopt;
    }
};

}  // namespace sweet_async::redis

/// The kind's name, e.g. "array".
template <>
struct fmt::formatter<sweet_async::redis::reply_kind>
    : sweet_async::detail::enum_formatter<sweet_async::redis::reply_kind> {};

/// A short, readable form: `nil`, `OK`, `(error) ERR ...`, `42`, `"text"`, `[a, b]`.
template <>
struct fmt::formatter<sweet_async::redis::reply> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::redis::reply& r, FormatContext& ctx) const {
        return write(ctx.out(), r);
    }

private:
    // Recursive by hand: a format string naming `reply` inside its own formatter is not a
    // constant expression for Clang.
    template <class Out>
    static Out write(Out out, const sweet_async::redis::reply& r) {
        using sweet_async::redis::reply_kind;
        switch (r.kind) {
        case reply_kind::nil: return fmt::format_to(out, "nil");
        case reply_kind::status: return fmt::format_to(out, "{}", r.text);
        case reply_kind::error: return fmt::format_to(out, "(error) {}", r.text);
        case reply_kind::integer: return fmt::format_to(out, "{}", r.integer);
        case reply_kind::string: return fmt::format_to(out, "\"{}\"", r.text);
        case reply_kind::array: break;
        }
        out = fmt::format_to(out, "[");
        for (std::size_t i = 0; i < r.elements.size(); ++i) {
            if (i != 0) out = fmt::format_to(out, ", ");
            out = write(out, r.elements[i]);
        }
        return fmt::format_to(out, "]");
    }
};

#endif  // SWEET_ASYNC_REDIS_REPLY_HPP
