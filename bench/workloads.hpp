// bench/workloads.hpp: the work processors do in the benchmark, and its cost models.
//
// Every cost is either real computation whose result is used (so the optimiser cannot drop it)
// or a spin on steady_clock (a stand-in for a blocking call: it keeps the thread busy for a
// wall-clock duration, whatever else the machine is doing).
#ifndef SWEET_ASYNC_BENCH_WORKLOADS_HPP
#define SWEET_ASYNC_BENCH_WORKLOADS_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace bench {

using steady = std::chrono::steady_clock;

/// Makes the optimiser believe `value` is read, without costing an instruction.
inline void keep(std::uint64_t value) noexcept {
    __asm__ __volatile__("" : : "r"(value) : "memory");
}

/// The "trivial processor": a few cycles of arithmetic, so that what is measured is the cost of
/// moving an event, not of processing it.
constexpr std::uint64_t trivial_work(std::uint64_t x) noexcept {
    return (x ^ (x >> 17)) * 0x9e3779b97f4a7c15ULL;
}

/// The trivial processor, as a task's processor.
struct trivial_processor {
    std::uint64_t operator()(const std::uint64_t& x) const noexcept { return trivial_work(x); }
};

/// The fold of the fold-collector scenarios: keeps the sum, nothing per event.
struct sum_in_place {
    void operator()(std::uint64_t& sum, std::uint64_t value) const noexcept { sum += value; }
};

/// `rounds` dependent multiply-xorshift steps from `seed`: each step needs the one before, so the
/// CPU can neither overlap nor skip them, and there is no closed form to fold them into.
std::uint64_t churn(std::uint64_t seed, std::uint64_t rounds) noexcept;

/// Keeps this thread busy until `d` has passed.
void spin_for(steady::duration d) noexcept;

/// How fast `churn` runs on this machine, measured at startup.
struct calibration {
    double rounds_per_microsecond = 0;

    /// Rounds of `churn` that take about `d` on an idle core.
    std::uint64_t rounds_for(std::chrono::nanoseconds d) const noexcept;
};

/// Measures `churn` several times and keeps the fastest trial: on a shared machine every
/// disturbance only slows a trial down, so the fastest is closest to the core's real speed.
calibration calibrate();

/// CPU-bound work of a fixed number of rounds, about the calibrated duration per call.
struct cpu_work {
    std::uint64_t rounds = 0;
    std::uint64_t operator()(const std::uint64_t& seed) const noexcept {
        return churn(seed, rounds);
    }
};

/// A sink (a database, a syscall) whose every call costs a fixed round trip plus a little per
/// item: the workload that batching is for.
struct sink_cost_model {
    std::chrono::nanoseconds per_call{std::chrono::microseconds(20)};
    std::chrono::nanoseconds per_item{100};

    std::chrono::nanoseconds cost(std::size_t items) const noexcept {
        return per_call + per_item * static_cast<std::int64_t>(items);
    }

    /// Events per second if `events` went through in full batches of `batch_size` and nothing
    /// but the sink cost anything.
    double ideal_events_per_second(std::size_t events, std::size_t batch_size) const noexcept;

    /// One call of the sink: pays the cost of `items.size()` items and returns one result each.
    std::vector<std::uint64_t> insert(std::span<const std::uint64_t> items) const;
};

}  // namespace bench

#endif  // SWEET_ASYNC_BENCH_WORKLOADS_HPP
