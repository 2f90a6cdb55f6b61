// sweet_async/base/outcome.hpp: how each event's processing ended.
#ifndef SWEET_ASYNC_BASE_OUTCOME_HPP
#define SWEET_ASYNC_BASE_OUTCOME_HPP

#include <cstdint>
#include <string>
#include <string_view>

#include <sweet_async/base/detail/enum_formatter.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/uuid.hpp>

namespace sweet_async {

/// The one outcome every sent event ends with.
enum class outcome {
    processed,  ///< The processor returned; its result was collected.
    failed,     ///< The processor threw on its last attempt.
    timed_out,  ///< Processing exceeded the per-event timeout.
    cancelled,  ///< The task stopped before the event was processed.
    /// The channel was full and its overflow policy dropped the event
    /// (`overflow_policy::drop_newest` or `drop_oldest`); never processed.
    dropped,
};

/// The name of the value, as spelled in the enumeration.
constexpr std::string_view to_string(outcome value) noexcept {
    switch (value) {
    case outcome::processed: return "processed";
    case outcome::failed: return "failed";
    case outcome::timed_out: return "timed_out";
    case outcome::cancelled: return "cancelled";
    case outcome::dropped: return "dropped";
    }
    return "unknown";
}

/// An event that did not end `processed`: which one, how, and why.
struct event_error {
    uuid event_id;  ///< The event's id (`event::id()`).
    /// The event's arrival position in its task (`event::sequence()`), so an
    /// error can be traced back to the input it came from; `not_received`
    /// for a dropped event, which never arrived.
    std::uint64_t sequence = 0;
    outcome kind = outcome::failed;  ///< How it ended; never `processed`.
    /// The exception's message for `failed`; a short explanation otherwise.
    std::string message{};
    /// Attempts made: 0 when the event never started, up to 1 + the task's
    /// `retry` setting.
    unsigned attempts = 0;

    /// The `sequence` of an event that was dropped before it was received.
    static constexpr std::uint64_t not_received = UINT64_MAX;
};

}  // namespace sweet_async

/// The value's name, e.g. "timed_out"; takes string format specs such as `{:>9}`.
template <>
struct fmt::formatter<sweet_async::outcome>
    : sweet_async::detail::enum_formatter<sweet_async::outcome> {};

/// "event #<sequence> (<event id>) <outcome>: <message>",
/// e.g. "event #7 (9b2f6c1e-...) failed: connection refused"; without the
/// "#<sequence> " for a dropped event, which was never received.
template <>
struct fmt::formatter<sweet_async::event_error> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::event_error& error, fmt::format_context& ctx) const {
        using sweet_async::detail::write_text;
        if (error.sequence == sweet_async::event_error::not_received) {
            return write_text(
                ctx, fmt::format("event ({}) {}: {}", error.event_id, error.kind, error.message));
        }
        return write_text(ctx, fmt::format("event #{} ({}) {}: {}", error.sequence, error.event_id,
                                           error.kind, error.message));
    }
};

#endif  // SWEET_ASYNC_BASE_OUTCOME_HPP
