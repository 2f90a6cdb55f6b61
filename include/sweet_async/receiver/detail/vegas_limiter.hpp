// sweet_async/receiver/detail/vegas_limiter.hpp: a concurrency limit moved by measured latency.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_VEGAS_LIMITER_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_VEGAS_LIMITER_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>

#include <sweet_async/base/vegas_options.hpp>

namespace sweet_async::detail {

/// The policy of `concurrency_limit::vegas` (see `vegas_options`): a pure
/// unit fed with one latency figure per window, so it is tested with
/// synthetic services.
///
/// A request's latency is its service time plus its wait in the service's
/// queue; the lowest latency seen stands for the service time. With `limit`
/// requests in flight at latency `l`, about `limit * (1 - no_load / l)` of
/// them are queued. Vegas keeps that queue small but not empty: it grows the
/// limit while the queue is shorter than `3 log10(limit)` (by `6 log10(limit)`
/// while it is shorter than `log10(limit)`, to climb quickly from a low
/// start), shrinks it by `log10(limit)` while the queue is longer than
/// `6 log10(limit)`, and leaves it in between. A window in which less than
/// half the limit was used says nothing about more, and leaves it.
///
/// The lowest latency seen goes stale when the service becomes slower for
/// good, and under load it cannot be seen afresh: every `probe_every` windows
/// the limit is cut to a quarter for one window (as BBR probes for its
/// round-trip time): if that barely lowers the latency, the service itself
/// is that slow now, and the window's latency becomes the no-load latency.
class vegas_limiter {
public:
    explicit vegas_limiter(const vegas_options& options)
        : options_(options),
          limit_(static_cast<double>(std::max<std::size_t>(options.initial, 1))) {}

    /// Moves the limit to `value` (set by hand); the measurements go on.
    void reset(std::size_t value) noexcept {
        limit_ = static_cast<double>(std::max<std::size_t>(value, 1));
    }

    /// The current limit, at least 1.
    std::size_t limit() const noexcept { return static_cast<std::size_t>(std::lround(limit_)); }

    /// The latency taken for the service time (zero before the first window).
    std::chrono::nanoseconds no_load() const noexcept {
        return std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(no_load_));
    }

    /// One window's mean latency, with at most `in_flight` events in flight
    /// during it; returns the new limit, within `[lowest, highest]`.
    std::size_t update(std::chrono::nanoseconds latency, std::size_t in_flight, std::size_t lowest,
                       std::size_t highest) {
        const double window = std::max(static_cast<double>(latency.count()), 1.0);
        const auto low = static_cast<double>(std::max<std::size_t>(lowest, 1));
        const auto high = std::max(low, static_cast<double>(highest));
        if (probing_) {
            // The window ran at a quarter of the limit. Barely faster than at
            // the full limit: the latency does not come from queueing, the
            // service itself is this slow now. Clearly faster: the load
            // mattered, and the lowest latency seen still stands (or this).
            no_load_ = window >= 0.9 * last_window_ ? window : std::min(no_load_, window);
            probing_ = false;
            limit_ = std::clamp(before_probe_, low, high);
            return limit();
        }
        if (no_load_ == 0 || window < no_load_) no_load_ = window;
        last_window_ = window;
        if (++windows_since_probe_ >= std::max<std::size_t>(options_.probe_every, 1)) {
            // The lowest latency seen may be stale (the service became slower for
            // good); it cannot be seen afresh under load: a quarter of the load
            // for a window.
            windows_since_probe_ = 0;
            probing_ = true;
            before_probe_ = limit_;
            limit_ = std::clamp(limit_ / 4, low, high);
            return limit();
        }
        if (static_cast<double>(in_flight) * 2 >= limit_) {
            const double queued = std::ceil(limit_ * (1 - no_load_ / window));
            const double log_limit = std::max(1.0, std::log10(limit_));
            double next = limit_;
            if (queued <= log_limit) {
                next = limit_ + 6 * log_limit;
            } else if (queued < 3 * log_limit) {
                next = limit_ + log_limit;
            } else if (queued > 6 * log_limit) {
                next = limit_ - log_limit;
            }
            limit_ = limit_ * (1 - options_.smoothing) + next * options_.smoothing;
        }
        limit_ = std::clamp(limit_, low, high);
        return limit();
    }

    /// True while the limit is cut for a window to measure the no-load latency.
    bool probing() const noexcept { return probing_; }

private:
    vegas_options options_;
    double limit_;
    double no_load_ = 0;  // nanoseconds
    std::size_t windows_since_probe_ = 0;
    bool probing_ = false;
    double before_probe_ = 0;
    double last_window_ = 0;  // the latency of the last window at the full limit
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_VEGAS_LIMITER_HPP
