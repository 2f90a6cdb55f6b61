// bench/report.hpp: one row per scenario, printed as a table and written as JSON.
#ifndef SWEET_ASYNC_BENCH_REPORT_HPP
#define SWEET_ASYNC_BENCH_REPORT_HPP

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace bench {

/// Which way a ratio has to go to meet its target.
enum class goal {
    at_least,  ///< ratio >= target (throughput against a baseline)
    at_most,   ///< ratio <= target (memory growth)
    above,     ///< ratio > target ("ahead of every fixed strategy")
    within,    ///< |ratio - 1| <= target (a rate that must match its setting)
};

/// A named figure that has no column of its own (latency percentiles, bytes per result, ...).
struct metric {
    std::string name;
    double value = 0;
};

/// One scenario's figures. A row compares a subject with a baseline measured in the same run;
/// `ratio` is subject / baseline of the quantity named by `ratio_of` (events per second unless
/// said otherwise).
struct row {
    std::string name;
    std::size_t events = 0;
    double seconds = 0;
    double events_per_second = 0;
    /// The slowest repetition's events/s (the best one is `events_per_second`): the noise.
    std::optional<double> slowest_events_per_second;
    std::string baseline;
    std::optional<double> baseline_events_per_second;
    std::optional<double> ratio;
    std::string ratio_of = "events_per_second";
    std::optional<double> target;  // empty: the figure is only reported
    goal direction = goal::at_least;
    std::optional<std::uint64_t> peak_rss_bytes;
    std::vector<metric> metrics;
    std::string note;
    /// Set when a run did not do what it should (an event lost, an exception): the figures of
    /// this row are not to be trusted.
    std::string problem;

    /// Whether the target is met; empty when there is no target (or no ratio).
    std::optional<bool> met() const;
};

/// What the run was, for the JSON's top level.
struct run_info {
    bool quick = false;
    unsigned repetitions = 0;
    double wall_seconds = 0;
    double rounds_per_microsecond = 0;
    std::string compiler;
    bool optimized = false;
};

/// The table, then each row's metrics and notes.
void print_table(std::FILE* out, std::span<const row> rows);

/// Writes `{"benchmark": ..., "scenarios": [...]}` to `path`; throws std::runtime_error when the
/// file cannot be written.
void write_json(const std::string& path, const run_info& info, std::span<const row> rows);

/// 1234567 -> "1.23M", 0.5 -> "0.5".
std::string si(double value);

}  // namespace bench

#endif  // SWEET_ASYNC_BENCH_REPORT_HPP
