// sweet_async/base/streaming_event_type.hpp: what an event means to the stream.
#ifndef SWEET_ASYNC_BASE_STREAMING_EVENT_TYPE_HPP
#define SWEET_ASYNC_BASE_STREAMING_EVENT_TYPE_HPP

#include <string_view>

#include <sweet_async/base/detail/enum_formatter.hpp>

namespace sweet_async {

/// The kind of an event. Every kind but `continuing` ends the stream: the
/// event itself is still processed, and nothing may be sent after it.
enum class streaming_event_type {
    continuing,    ///< An ordinary event; more may follow.
    final,         ///< The last event of the stream.
    error,         ///< The producer failed; the event carries its message.
    cancellation,  ///< The producer gave up; the stream ends here.
};

/// True for the kinds that end the stream ("final" in this library's words:
/// final, error and cancellation events, as `event::is_final()` says).
constexpr bool is_final(streaming_event_type type) noexcept {
    return type != streaming_event_type::continuing;
}

/// The name of the value, as spelled in the enumeration.
constexpr std::string_view to_string(streaming_event_type type) noexcept {
    switch (type) {
    case streaming_event_type::continuing: return "continuing";
    case streaming_event_type::final: return "final";
    case streaming_event_type::error: return "error";
    case streaming_event_type::cancellation: return "cancellation";
    }
    return "unknown";
}

}  // namespace sweet_async

/// The value's name, e.g. "continuing"; takes string format specs such as `{:>12}`.
template <>
struct fmt::formatter<sweet_async::streaming_event_type>
    : sweet_async::detail::enum_formatter<sweet_async::streaming_event_type> {};

#endif  // SWEET_ASYNC_BASE_STREAMING_EVENT_TYPE_HPP
