// sweet_async/base/throttle.hpp: a rate limit with a burst, for any strategy.
#ifndef SWEET_ASYNC_BASE_THROTTLE_HPP
#define SWEET_ASYNC_BASE_THROTTLE_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>

#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// A rate limit on the events a task takes off its channel: `events` per
/// `per`, with bursts of up to `burst` after a quiet spell (a token bucket,
/// as Akka Streams' `throttle`). It applies where events are received, so it
/// composes with any strategy: what waits for its turn waits in the channel,
/// and producers feel the channel's backpressure. `burst = 1` spaces events
/// evenly.
///
/// ```cpp
/// .throttle({.events = 100, .per = 1s, .burst = 10})  // 100 events/s, 10 at once at most
/// ```
struct throttle {
    std::size_t events = 1;                                 ///< Events allowed per `per`.
    std::chrono::nanoseconds per{std::chrono::seconds(1)};  ///< The period of `events`.
    std::size_t burst = 1;  ///< Events that may go at once when tokens have saved up.

    /// The time one token takes to come back.
    std::chrono::nanoseconds interval() const noexcept {
        return per / static_cast<std::chrono::nanoseconds::rep>(std::max<std::size_t>(events, 1));
    }
};

namespace detail {

/// The token bucket of a `throttle`, fed with the time by its caller (so
/// tests can drive it with any clock). Full at the start: the first `burst`
/// events go at once. Consumer strand only.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    token_bucket(const throttle& limit, clock::time_point now)
        : interval_(std::max(limit.interval(), std::chrono::nanoseconds(1))),
          burst_(std::max<std::size_t>(limit.burst, 1)),
          // A full bucket: the next token is due `burst` intervals ago, capped.
          next_(now - interval_ * static_cast<std::chrono::nanoseconds::rep>(burst_ - 1)) {}

    /// Takes a token if one is there at `now`.
    bool try_take(clock::time_point now) noexcept {
        if (now < next_) return false;
        // Tokens saved up beyond the burst are lost: the earliest the next
        // one may be due is `burst - 1` intervals before now.
        const auto earliest =
            now - interval_ * static_cast<std::chrono::nanoseconds::rep>(burst_ - 1);
        next_ = std::max(next_, earliest) + interval_;
        return true;
    }

    /// When the next token is there (now or in the past when one is).
    clock::time_point next_token() const noexcept { return next_; }

private:
    std::chrono::nanoseconds interval_;
    std::size_t burst_;
    clock::time_point next_;  // when the next token is due
};

}  // namespace detail
}  // namespace sweet_async

/// "throttle(100 per 1s, burst 10)".
template <>
struct fmt::formatter<sweet_async::throttle> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::throttle& t, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("throttle({} per {}, burst {})", t.events,
                             sweet_async::detail::duration_text(t.per), t.burst));
    }
};

#endif  // SWEET_ASYNC_BASE_THROTTLE_HPP
