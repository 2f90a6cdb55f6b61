// sweet_async/base/dead_letter.hpp: an event that failed for good, handed on with its error.
#ifndef SWEET_ASYNC_BASE_DEAD_LETTER_HPP
#define SWEET_ASYNC_BASE_DEAD_LETTER_HPP

#include <sweet_async/config.hpp>

#include <optional>

#include <sweet_async/base/outcome.hpp>

namespace sweet_async {

/// What a task's dead-letter target receives for every event that ended
/// failed or timed out (after its retries): the error, as in
/// `final_result::errors()` (its id matches what the send returned), and
/// the payload, so that the input can be inspected, repaired or replayed.
/// The payload is absent only for the final event of a payload type that
/// cannot be copied (the final result keeps that event whole).
template <class T>
struct dead_letter {
    event_error error{};         ///< Which event, how it ended, why, after how many attempts.
    std::optional<T> payload{};  ///< The event's payload.
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_BASE_DEAD_LETTER_HPP
