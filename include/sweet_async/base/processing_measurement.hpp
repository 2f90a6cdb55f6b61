// sweet_async/base/processing_measurement.hpp: what a strategy that adapts learns from the
// receiver.
#ifndef SWEET_ASYNC_BASE_PROCESSING_MEASUREMENT_HPP
#define SWEET_ASYNC_BASE_PROCESSING_MEASUREMENT_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>

#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// What a receiver has measured since it was last asked (see `receiver::take_measurement`).
struct processing_measurement {
    std::size_t finished = 0;                   ///< Events that got an outcome.
    std::size_t latency_samples = 0;            ///< Of those, events whose latency was timed.
    std::chrono::nanoseconds total_latency{0};  ///< Sum of their started-to-completed times.

    /// Mean started-to-completed time of the timed events; zero when none was timed.
    std::chrono::nanoseconds mean_latency() const noexcept {
        if (latency_samples == 0) return std::chrono::nanoseconds::zero();
        return total_latency / static_cast<std::ptrdiff_t>(latency_samples);
    }
};

}  // namespace sweet_async

/// `finished=<n> latency_samples=<n> mean_latency=<duration>`.
template <>
struct fmt::formatter<sweet_async::processing_measurement> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::processing_measurement& m, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx,
            fmt::format("finished={} latency_samples={} mean_latency={}", m.finished,
                        m.latency_samples, sweet_async::detail::duration_text(m.mean_latency())));
    }
};

#endif  // SWEET_ASYNC_BASE_PROCESSING_MEASUREMENT_HPP
