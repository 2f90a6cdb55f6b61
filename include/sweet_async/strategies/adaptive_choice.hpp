// sweet_async/strategies/adaptive_choice.hpp: what the adaptive strategy chooses among, and from.
#ifndef SWEET_ASYNC_STRATEGIES_ADAPTIVE_CHOICE_HPP
#define SWEET_ASYNC_STRATEGIES_ADAPTIVE_CHOICE_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <sweet_async/base/detail/duration_text.hpp>
#include <sweet_async/base/detail/enum_formatter.hpp>
#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/min_max.hpp>

namespace sweet_async {

/// How the adaptive strategy runs the processor during a window.
enum class processing_mode {
    serial,    ///< One event at a time, in arrival order.
    parallel,  ///< Up to `concurrency` processors in flight.
    batched,   ///< One per-batch processor call for `batch_size` events.
};

/// The name of `mode`: "serial", "parallel" or "batched".
constexpr std::string_view to_string(processing_mode mode) noexcept {
    switch (mode) {
    case processing_mode::serial: return "serial";
    case processing_mode::parallel: return "parallel";
    case processing_mode::batched: return "batched";
    }
    return "unknown";
}

/// What the adaptive strategy runs a window with: a mode and its one knob.
/// Formats as "serial", "parallel(4)" or "batched(64)".
struct adaptive_choice {
    processing_mode mode = processing_mode::serial;  ///< How events are processed.
    /// Processors in flight (parallel); 1 otherwise.
    std::size_t concurrency = 1;
    /// Events per processor call (batched); 1 otherwise.
    std::size_t batch_size = 1;

    /// One event at a time.
    static constexpr adaptive_choice serial() noexcept { return {}; }
    /// Up to `concurrency` processors in flight.
    static constexpr adaptive_choice parallel(std::size_t concurrency) noexcept {
        return {processing_mode::parallel, concurrency, 1};
    }
    /// `batch_size` events per processor call.
    static constexpr adaptive_choice batched(std::size_t batch_size) noexcept {
        return {processing_mode::batched, 1, batch_size};
    }

    /// True when `a` is the simpler of the two: serial before parallel before
    /// batched, then the lower concurrency or batch size. Ties of throughput
    /// and latency go to the simpler choice, which costs less to run.
    friend constexpr bool simpler(const adaptive_choice& a, const adaptive_choice& b) noexcept {
        if (a.mode != b.mode) return a.mode < b.mode;
        if (a.concurrency != b.concurrency) return a.concurrency < b.concurrency;
        return a.batch_size < b.batch_size;
    }

    /// Equal when mode, concurrency and batch size are.
    friend bool operator==(const adaptive_choice&, const adaptive_choice&) = default;
};

/// "serial", "parallel(4)" or "batched(64)".
inline std::string to_string(const adaptive_choice& choice) {
    switch (choice.mode) {
    case processing_mode::serial: return "serial";
    case processing_mode::parallel: return fmt::format("parallel({})", choice.concurrency);
    case processing_mode::batched: return fmt::format("batched({})", choice.batch_size);
    }
    return "unknown";
}

/// What one window achieved, as the strategy runner measured it.
struct window_measurement {
    /// Events finished in the window.
    std::size_t events = 0;
    /// Time in the window during which work was available (the stream was not
    /// starved): a slow producer must not make a choice look slow.
    std::chrono::nanoseconds busy{0};
    /// Mean of the per-event started -> completed times.
    std::chrono::nanoseconds mean_latency{0};

    /// False when the window says nothing about the choice it ran under (no
    /// event finished, or no busy time); such windows are ignored.
    constexpr bool informative() const noexcept {
        return events > 0 && busy > std::chrono::nanoseconds::zero();
    }
    /// Events per busy second; 0 when not `informative()`.
    constexpr double throughput() const noexcept {
        if (!informative()) return 0.0;
        return static_cast<double>(events) * 1e9 / static_cast<double>(busy.count());
    }
};

/// One change of choice, with the reason for it.
struct adaptive_decision {
    /// Index of the window that was just measured (counting every `observe()`).
    std::size_t window = 0;
    /// The choice the window ran under.
    adaptive_choice from{};
    /// The choice of the next window.
    adaptive_choice to{};
    /// Events per busy second measured under `from` in that window.
    double throughput = 0;
    /// Why, with the figures it was decided on, e.g.
    /// "exploring: parallel(2) ran 1.99k events/s, 2.00x serial; trying parallel(4)".
    std::string reason{};
};

/// The bounds the adaptive strategy moves within.
struct adaptive_limits {
    /// Concurrency bounds of `parallel`.
    min_max<std::size_t> workers{1, 8};
    /// Batch size bounds of `batched`.
    min_max<std::size_t> batch_sizes{8, 512};
    /// True when a per-batch processor exists; without it `batched` is never chosen.
    bool can_batch = false;
    /// Windows spent on a settled choice before everything is measured again.
    std::size_t recheck_every = 20;
    /// Relative throughput (or latency) difference treated as noise.
    double tolerance = 0.05;

    /// Throws `std::invalid_argument` naming the first field whose value cannot work, as a
    /// member of `owner` (the adaptive strategy passes "adaptive", the fields users set there).
    void validate(std::string_view owner = "adaptive_limits") const {
        const auto fail = [owner](std::string_view field, const auto& rule) {
            throw std::invalid_argument(fmt::format("{}.{} {}", owner, field, rule));
        };
        if (workers.min == 0) fail("workers.min", "must be at least 1, got 0");
        if (!workers.valid()) fail("workers", fmt::format("must have min <= max, got {}", workers));
        if (batch_sizes.min == 0) fail("batch_sizes.min", "must be at least 1, got 0");
        if (!batch_sizes.valid())
            fail("batch_sizes", fmt::format("must have min <= max, got {}", batch_sizes));
        if (recheck_every == 0) fail("recheck_every", "must be at least 1, got 0");
        // Written so that NaN fails too.
        if (!(tolerance >= 0.0 && tolerance < 1.0))
            fail("tolerance", fmt::format("must be in [0, 1), got {}", tolerance));
    }
};

namespace detail {

/// "950 events/s", "3.99k events/s", "1.20M events/s".
inline std::string rate_text(double per_second) {
    if (per_second >= 1e6) return fmt::format("{:.2f}M events/s", per_second / 1e6);
    if (per_second >= 1e3) return fmt::format("{:.2f}k events/s", per_second / 1e3);
    return fmt::format("{:.1f} events/s", per_second);
}

/// "850ns", "12.50us", "1.00ms", "2.50s".
inline std::string latency_text(double nanoseconds) {
    if (nanoseconds >= 1e9) return fmt::format("{:.2f}s", nanoseconds / 1e9);
    if (nanoseconds >= 1e6) return fmt::format("{:.2f}ms", nanoseconds / 1e6);
    if (nanoseconds >= 1e3) return fmt::format("{:.2f}us", nanoseconds / 1e3);
    return fmt::format("{:.0f}ns", nanoseconds);
}

}  // namespace detail

}  // namespace sweet_async

/// The value's name, e.g. "parallel"; takes string format specs such as `{:>8}`.
template <>
struct fmt::formatter<sweet_async::processing_mode>
    : sweet_async::detail::enum_formatter<sweet_async::processing_mode> {};

/// "serial", "parallel(4)", "batched(64)"; accepts string format specs (width, alignment).
template <>
struct fmt::formatter<sweet_async::adaptive_choice> : fmt::formatter<std::string_view> {
    auto format(const sweet_async::adaptive_choice& choice, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(sweet_async::to_string(choice), ctx);
    }
};

/// "window 3: parallel(2) -> parallel(4) (1.99k events/s): exploring: ..."
template <>
struct fmt::formatter<sweet_async::adaptive_decision> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::adaptive_decision& d, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("window {}: {} -> {} ({}): {}", d.window,
                             sweet_async::to_string(d.from), sweet_async::to_string(d.to),
                             sweet_async::detail::rate_text(d.throughput), d.reason));
    }
};

/// "events=120 busy=10ms mean_latency=850ns throughput=12.00k events/s".
template <>
struct fmt::formatter<sweet_async::window_measurement> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::window_measurement& m, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("events={} busy={} mean_latency={} throughput={}", m.events,
                             sweet_async::detail::duration_text(m.busy),
                             sweet_async::detail::duration_text(m.mean_latency),
                             sweet_async::detail::rate_text(m.throughput())));
    }
};

/// "adaptive_limits(workers=1..8, batch_sizes=8..512, can_batch=false,
/// recheck_every=20, tolerance=0.05)".
template <>
struct fmt::formatter<sweet_async::adaptive_limits> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::adaptive_limits& l, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("adaptive_limits(workers={}, batch_sizes={}, can_batch={}, "
                             "recheck_every={}, tolerance={})",
                             l.workers, l.batch_sizes, l.can_batch, l.recheck_every, l.tolerance));
    }
};

#endif  // SWEET_ASYNC_STRATEGIES_ADAPTIVE_CHOICE_HPP
