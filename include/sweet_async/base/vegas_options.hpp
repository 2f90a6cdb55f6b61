// sweet_async/base/vegas_options.hpp: how a latency-driven concurrency limit moves.
#ifndef SWEET_ASYNC_BASE_VEGAS_OPTIONS_HPP
#define SWEET_ASYNC_BASE_VEGAS_OPTIONS_HPP

#include <cstddef>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async {

/// The settings of `concurrency_limit::vegas`: a limit that follows a
/// service's latency, after TCP Vegas as Netflix's concurrency-limits applies
/// it. The no-load latency is the lowest seen; the requests queued at the
/// service are estimated as `limit * (1 - no_load / latency)`, and the limit
/// grows while fewer than about `3 log10(limit)` queue and shrinks when more
/// than `6 log10(limit)` do.
struct vegas_options {
    std::size_t initial = 4;  ///< The limit it starts from.
    /// The fraction of the way each window moves the limit toward its new
    /// value (1: all the way).
    double smoothing = 1.0;
    /// Windows after which the no-load latency is measured afresh, in a
    /// window at a quarter of the limit, so a service that became slower for good is
    /// not taken for an overloaded one.
    std::size_t probe_every = 100;
    /// Events whose latency is timed per window (one event in 16 is timed).
    std::size_t samples_per_window = 8;
};

}  // namespace sweet_async

/// "vegas(initial=4, smoothing=1, probe_every=100, samples_per_window=8)".
template <>
struct fmt::formatter<sweet_async::vegas_options> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::vegas_options& v, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("vegas(initial={}, smoothing={}, probe_every={}, "
                             "samples_per_window={})",
                             v.initial, v.smoothing, v.probe_every, v.samples_per_window));
    }
};

#endif  // SWEET_ASYNC_BASE_VEGAS_OPTIONS_HPP
