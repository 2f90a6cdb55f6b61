// sweet_async/redis/stream_entry.hpp: one entry of a Redis stream, as an event's payload.
#ifndef SWEET_ASYNC_REDIS_STREAM_ENTRY_HPP
#define SWEET_ASYNC_REDIS_STREAM_ENTRY_HPP

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/redis/reply.hpp>

namespace sweet_async::redis {

/// An entry read from a stream through a consumer group: its id, its fields
/// in their order, and how many times the group has delivered it (1 on a
/// first reading, more once it was reclaimed from a consumer that did not
/// acknowledge it).
struct stream_entry {
    std::string id{};                                           ///< E.g. "1733490000000-0".
    std::vector<std::pair<std::string, std::string>> fields{};  ///< Name, value; in order.
    unsigned deliveries = 1;  ///< Deliveries so far, this one included.

    /// The value of the first field named `name`, if any.
    std::optional<std::string_view> field(std::string_view name) const noexcept {
        for (const auto& [key, value] : fields) {
            if (key == name) return value;
        }
        return std::nullopt;
    }
};

/// The entries of one stream in a reply of XREADGROUP (`[[stream, [[id,
/// [field, value, ...]], ...]]]`) or XAUTOCLAIM (`[cursor, [[id, [...]],
/// ...], ...]`): `entries` is the reply's list of entries. An entry whose
/// fields are nil (deleted from the stream while pending) has no fields.
/// Throws `std::runtime_error` naming what is malformed.
inline std::vector<stream_entry> parse_entries(const reply& entries) {
    if (entries.kind != reply_kind::array)
        throw std::runtime_error(
            fmt::format("expected an array of stream entries, got {}", entries));
    std::vector<stream_entry> out;
    out.reserve(entries.elements.size());
    for (const reply& item : entries.elements) {
        if (item.kind != reply_kind::array || item.elements.size() != 2 ||
            item.elements[0].kind != reply_kind::string) {
            throw std::runtime_error(fmt::format("malformed stream entry: {}", item));
        }
        stream_entry e;
        e.id = item.elements[0].text;
        const reply& fields = item.elements[1];
        if (fields.kind == reply_kind::array) {
            if (fields.elements.size() % 2 != 0)
                throw std::runtime_error(fmt::format("entry {}: odd field list {}", e.id, fields));
            for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2)
                e.fields.emplace_back(fields.elements[i].text, fields.elements[i + 1].text);
        }
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace sweet_async::redis

/// "1733490000000-0 {line: ..., n: ...}", with " (delivery 3)" after a first.
template <>
struct fmt::formatter<sweet_async::redis::stream_entry> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::redis::stream_entry& e, FormatContext& ctx) const {
        auto out = fmt::format_to(ctx.out(), "{} {{", e.id);
        for (std::size_t i = 0; i < e.fields.size(); ++i) {
            out = fmt::format_to(out, "{}{}: {}", i == 0 ? "" : ", ", e.fields[i].first,
                                 e.fields[i].second);
        }
        out = fmt::format_to(out, "}}");
        if (e.deliveries > 1) out = fmt::format_to(out, " (delivery {})", e.deliveries);
        return out;
    }
};

#endif  // SWEET_ASYNC_REDIS_STREAM_ENTRY_HPP
