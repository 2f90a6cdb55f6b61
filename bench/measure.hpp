// bench/measure.hpp: timing runs, alternating subjects with their baselines, and turning the
// best of each into report rows.
#ifndef SWEET_ASYNC_BENCH_MEASURE_HPP
#define SWEET_ASYNC_BENCH_MEASURE_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "report.hpp"

namespace bench {

/// How the whole benchmark runs.
struct settings {
    bool quick = false;
    unsigned repetitions = 3;
    /// This executable, for the child processes of the memory scenarios.
    std::string self_path;
    /// Calibrated rounds of `churn` per microsecond.
    double rounds_per_microsecond = 0;

    /// `full` in a full run, `quick` in a quick one.
    template <class T>
    T pick(T full, T quick_value) const {
        return quick ? quick_value : full;
    }
};

/// What one run of a subject or baseline did.
struct run_result {
    std::size_t events = 0;
    double seconds = 0;
    /// Empty when every event ended processed (and the task completed); otherwise what went
    /// wrong.
    std::string problem{};
    /// What the strategy ended on, and similar facts worth printing.
    std::string note{};

    double events_per_second() const {
        return seconds > 0 ? static_cast<double>(events) / seconds : 0.0;
    }
};

/// Something to measure: a subject, a baseline, or both at once.
struct contestant {
    std::string label;
    std::function<run_result()> run;
};

/// A contestant's best run over the repetitions.
struct measured {
    std::string label;
    run_result best;
    /// Every repetition's events/s, in order (to show the spread).
    std::vector<double> rates;
    /// The first problem of any repetition: a run that lost an event taints the figure even if
    /// another repetition was clean.
    std::string problem;

    double events_per_second() const { return best.events_per_second(); }
};

/// Runs every contestant `repetitions` times, in turns (A B C A B C ...), so that a slow phase of
/// a shared machine hurts all of them alike, and keeps each one's fastest run: noise only ever
/// slows a run down. A run that throws counts as a problem, not a crash.
std::vector<measured> round_robin(std::span<const contestant> contestants, unsigned repetitions);

/// The fastest of `candidates`, e.g. the best fixed strategy for an adaptive comparison.
const measured& fastest(std::span<const measured* const> candidates);

/// A row comparing `subject` with `baseline`, both measured in this run.
row compare(std::string name, const measured& subject, const measured& baseline,
            std::optional<double> target, goal direction = goal::at_least);

/// A row comparing an adaptive run with the fastest of the fixed strategies measured on the same
/// workload in this run; each fixed strategy's events/s is listed in the metrics.
row compare_with_best_fixed(std::string name, const measured& adaptive,
                            std::span<const measured* const> fixed, double target,
                            goal direction = goal::at_least);

/// A row comparing `subject` with a figure computed rather than measured (an ideal from a cost
/// model); `baseline` says what it is.
row compare_with_ideal(std::string name, const measured& subject, std::string baseline,
                       double ideal_events_per_second, std::optional<double> target,
                       goal direction = goal::at_least);

/// The process's peak resident set size (VmHWM), in bytes; 0 when it cannot be read.
std::uint64_t peak_rss_bytes();

/// The `fraction` quantile (0..1) of `sorted` by nearest rank; 0 for an empty range.
double quantile(std::span<const double> sorted, double fraction);

}  // namespace bench

#endif  // SWEET_ASYNC_BENCH_MEASURE_HPP
