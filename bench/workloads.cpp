// bench/workloads.cpp: calibrated busy work and the sink's cost model.
#include "workloads.hpp"

#include <algorithm>
#include <limits>

namespace bench {

// Out of line (and in its own translation unit) so that callers cannot specialise it for a
// constant round count or hoist it out of their loops.
std::uint64_t churn(std::uint64_t seed, std::uint64_t rounds) noexcept {
    std::uint64_t x = seed + 0x9e3779b97f4a7c15ULL;
    for (std::uint64_t i = 0; i < rounds; ++i) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 29;
    }
    return x;
}

void spin_for(steady::duration d) noexcept {
    const auto until = steady::now() + d;
    while (steady::now() < until) {
    }
}

std::uint64_t calibration::rounds_for(std::chrono::nanoseconds d) const noexcept {
    const double microseconds = std::chrono::duration<double, std::micro>(d).count();
    return std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(microseconds * rounds_per_microsecond));
}

calibration calibrate() {
    constexpr std::uint64_t rounds = 200'000;  // a few hundred microseconds per trial
    constexpr int trials = 15;
    double fastest = std::numeric_limits<double>::max();
    for (int trial = 0; trial < trials; ++trial) {
        const auto started = steady::now();
        keep(churn(static_cast<std::uint64_t>(trial), rounds));
        const double took =
            std::chrono::duration<double, std::micro>(steady::now() - started).count();
        fastest = std::min(fastest, took);
    }
    return calibration{static_cast<double>(rounds) / fastest};
}

double sink_cost_model::ideal_events_per_second(std::size_t events,
                                                std::size_t batch_size) const noexcept {
    if (events == 0 || batch_size == 0) return 0;
    const std::size_t calls = (events + batch_size - 1) / batch_size;
    const double seconds =
        std::chrono::duration<double>(per_call).count() * static_cast<double>(calls) +
        std::chrono::duration<double>(per_item).count() * static_cast<double>(events);
    return static_cast<double>(events) / seconds;
}

std::vector<std::uint64_t> sink_cost_model::insert(std::span<const std::uint64_t> items) const {
    spin_for(cost(items.size()));
    std::vector<std::uint64_t> receipts;
    receipts.reserve(items.size());
    for (std::uint64_t item : items)
        receipts.push_back(item + 1);
    return receipts;
}

}  // namespace bench
