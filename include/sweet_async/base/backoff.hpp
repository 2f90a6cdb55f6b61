// sweet_async/base/backoff.hpp: how long a retry waits.
#ifndef SWEET_ASYNC_BASE_BACKOFF_HPP
#define SWEET_ASYNC_BASE_BACKOFF_HPP

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// The wait before each retry of a failed attempt: `initial` before the
/// first retry, then `multiplier` times longer for each further one, never
/// longer than `max`. The default retries at once.
///
/// ```cpp
/// .retry(3, sa::backoff{.initial = 10ms})   // waits 10 ms, 20 ms, 40 ms
/// ```
struct backoff {
    std::chrono::nanoseconds initial{0};                      ///< Before the first retry.
    double multiplier = 2.0;                                  ///< Growth per further retry (>= 1).
    std::chrono::nanoseconds max = std::chrono::seconds(30);  ///< Upper bound of one wait.

    /// True when retries do not wait at all.
    constexpr bool immediate() const noexcept {
        return initial <= std::chrono::nanoseconds::zero();
    }

    /// The wait before retry number `retry` (1 for the first retry).
    std::chrono::nanoseconds delay(unsigned retry) const noexcept {
        if (immediate() || retry == 0) return std::chrono::nanoseconds::zero();
        // Computed in floating point so that a long run of retries saturates
        // at `max` instead of overflowing.
        const double grown = static_cast<double>(initial.count()) *
                             std::pow(multiplier, static_cast<double>(retry - 1));
        const double capped = std::min(grown, static_cast<double>(max.count()));
        return std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(capped));
    }

    /// Member-wise: two backoffs are equal when they wait the same delays.
    friend constexpr bool operator==(const backoff&, const backoff&) = default;
};

}  // namespace sweet_async

/// `backoff(10ms x2 max 30s)`, or `backoff(none)`.
template <>
struct fmt::formatter<sweet_async::backoff> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::backoff& b, fmt::format_context& ctx) const {
        using sweet_async::detail::duration_text;
        if (b.immediate()) return sweet_async::detail::write_text(ctx, "backoff(none)");
        return sweet_async::detail::write_text(
            ctx, fmt::format("backoff({} x{} max {})", duration_text(b.initial), b.multiplier,
                             duration_text(b.max)));
    }
};

#endif  // SWEET_ASYNC_BASE_BACKOFF_HPP
