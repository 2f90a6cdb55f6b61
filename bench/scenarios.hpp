// bench/scenarios.hpp: the scenario groups. A group measures its subjects and their baselines
// together (in turns, in one process) and turns them into rows.
#ifndef SWEET_ASYNC_BENCH_SCENARIOS_HPP
#define SWEET_ASYNC_BENCH_SCENARIOS_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "measure.hpp"
#include "report.hpp"

namespace bench {

struct scenario_group {
    std::string_view name;
    /// The rows the group produces, in order (for --list and --filter).
    std::vector<std::string_view> rows;
    std::vector<row> (*run)(const settings&);
};

/// Every group, in the order they run.
std::span<const scenario_group> scenario_groups();

// One function per group: serial in scenarios_serial.cpp, latency in scenarios_latency.cpp, cpu,
// timer and sink in scenarios_strategies.cpp, shift in scenarios_shift.cpp, memory in
// scenarios_memory.cpp, flow in scenarios_flow.cpp, per_key in scenarios_per_key.cpp, throttle in
// scenarios_throttle.cpp, redis in scenarios_redis.cpp, the oneTBB
// peer in scenarios_tbb.cpp.
std::vector<row> run_serial_group(const settings& s);
std::vector<row> run_latency_group(const settings& s);
std::vector<row> run_cpu_group(const settings& s);
std::vector<row> run_timer_group(const settings& s);
std::vector<row> run_sink_group(const settings& s);
std::vector<row> run_shift_group(const settings& s);
std::vector<row> run_memory_group(const settings& s);
std::vector<row> run_flow_group(const settings& s);
std::vector<row> run_per_key_group(const settings& s);
std::vector<row> run_throttle_group(const settings& s);
#ifdef SWEET_ASYNC_BENCH_REDIS
/// A Redis consumer group drained by sweet_async workers and by a hand-written hiredis loop
/// (scenarios_redis.cpp, built with sweet_async::redis when redis-server is installed).
std::vector<row> run_redis_group(const settings& s);
#endif
#ifdef SWEET_ASYNC_BENCH_TBB
/// oneTBB's flow graph on the same work (scenarios_tbb.cpp, built when CMake finds oneTBB).
std::vector<row> run_tbb_group(const settings& s);
#endif

/// The child side of the memory scenarios (`--memory-child fold|keyed EVENTS`): streams EVENTS
/// events through the serial trivial processor into that collector and prints its figures,
/// including the peak RSS, on one line of stdout. Returns the exit code.
int memory_child_main(std::string_view collector, std::size_t events);

/// What a memory child reports.
struct child_figures {
    run_result run;
    std::uint64_t peak_rss_bytes = 0;
};

/// Runs this executable with `--memory-child kind events` and parses its line.
child_figures run_memory_child(const settings& s, const std::string& kind, std::size_t events);

/// `child` as a measured contestant (a single run: peak RSS hardly varies between runs).
measured as_measured(const std::string& label, const child_figures& child);

/// A row of `subject` against `baseline` whose ratio is that of their peak RSS.
row rss_row(std::string name, const std::string& subject_label, const child_figures& subject,
            const measured& baseline, const child_figures& baseline_figures,
            std::optional<double> target);

/// The flow the `flow-slow` memory child runs: `events` events through three linked serial
/// stages, the last one the slowest (scenarios_flow.cpp).
run_result run_slow_flow(std::size_t events);

}  // namespace bench

#endif  // SWEET_ASYNC_BENCH_SCENARIOS_HPP
