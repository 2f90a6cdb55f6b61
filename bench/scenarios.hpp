// bench/scenarios.hpp: the scenario groups. A group measures its subjects and their baselines
// together (in turns, in one process) and turns them into rows.
#ifndef SWEET_ASYNC_BENCH_SCENARIOS_HPP
#define SWEET_ASYNC_BENCH_SCENARIOS_HPP

#include <cstddef>
#include <span>
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
// scenarios_memory.cpp, the oneTBB peer in scenarios_tbb.cpp.
std::vector<row> run_serial_group(const settings& s);
std::vector<row> run_latency_group(const settings& s);
std::vector<row> run_cpu_group(const settings& s);
std::vector<row> run_timer_group(const settings& s);
std::vector<row> run_sink_group(const settings& s);
std::vector<row> run_shift_group(const settings& s);
std::vector<row> run_memory_group(const settings& s);
#ifdef SWEET_ASYNC_BENCH_TBB
/// oneTBB's flow graph on the same work (scenarios_tbb.cpp, built when CMake finds oneTBB).
std::vector<row> run_tbb_group(const settings& s);
#endif

/// The child side of the memory scenarios (`--memory-child fold|keyed EVENTS`): streams EVENTS
/// events through the serial trivial processor into that collector and prints its figures,
/// including the peak RSS, on one line of stdout. Returns the exit code.
int memory_child_main(std::string_view collector, std::size_t events);

}  // namespace bench

#endif  // SWEET_ASYNC_BENCH_SCENARIOS_HPP
