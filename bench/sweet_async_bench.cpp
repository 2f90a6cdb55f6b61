// sweet_async_bench: how fast sweet_async moves and processes events, as ratios against
// baselines measured in the same process (a hand-written Asio channel loop, a plain loop, the
// ideal of a cost model, the best fixed strategy).
//
//   sweet_async_bench [--quick] [--json FILE] [--filter SUBSTRING] [--repetitions N] [--list]
//
// The table goes to stdout, progress to stderr. Targets are reported, never enforced: the exit
// code is non-zero only when a run went wrong (an event lost, an exception) or on bad usage.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "measure.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "workloads.hpp"

#include <unistd.h>

namespace bench {

std::span<const scenario_group> scenario_groups() {
    static const std::vector<scenario_group> groups{
        {"serial",
         {"serial.trivial.keyed", "serial.trivial.fold", "serial.trivial.keyed.await_send",
          "serial.trivial.fold.await_send", "baseline.plain_loop", "baseline.channel_try_first",
          "adaptive.trivial"},
         run_serial_group},
        {"latency", {"latency.serial.trivial.half_rate"}, run_latency_group},
        {"cpu", {"parallel.cpu_5us.pool2", "adaptive.cpu_5us.pool2"}, run_cpu_group},
        {"timer", {"parallel.timer_1ms.64", "adaptive.timer_1ms"}, run_timer_group},
        {"sink",
         {"batched.sink.100", "batched.sink.100.vs_serial", "adaptive.sink"},
         run_sink_group},
        {"shift", {"adaptive.shift.waits", "adaptive.shift.blocking"}, run_shift_group},
        {"memory",
         {"memory.fold.rss_10x_events", "memory.fold.all_failing", "memory.keyed.bytes_per_result"},
         run_memory_group},
        {"flow", {"flow.three_stages.trivial", "flow.slow_last.rss_10x_events"}, run_flow_group},
        {"per_key",
         {"parallel.ordered.cpu_5us.pool2", "per_key.cpu_5us.keys_1", "per_key.cpu_5us.keys_16",
          "per_key.cpu_5us.keys_10000"},
         run_per_key_group},
        {"throttle", {"throttle.rate_20k.burst_20"}, run_throttle_group},
#ifdef SWEET_ASYNC_BENCH_REDIS
        {"redis",
         {"redis.one_worker.trivial", "redis.two_workers.trivial",
#ifdef SWEET_ASYNC_BENCH_REDIS_TLS
          "redis.one_worker.tls"
#endif
         },
         run_redis_group},
#endif
#ifdef SWEET_ASYNC_BENCH_TBB
        {"tbb",
         {"tbb.serial.trivial.fold", "tbb.serial.trivial.keyed", "tbb.parallel.trivial.pool2",
          "tbb.parallel.cpu_5us.pool2", "tbb.serial.cpu_5us.pool2"},
         run_tbb_group},
#endif
    };
    return groups;
}

namespace {

constexpr std::string_view usage = R"(usage: sweet_async_bench [options]

Measures sweet_async against baselines run in the same process and prints one row per
scenario: its events/s, the baseline's, their ratio and the target ratio (reported, never
enforced).

options:
  --quick             small event counts and fewer repetitions (well under a minute)
  --json FILE         also write the figures as JSON to FILE
  --filter SUBSTRING  only the scenarios whose name contains SUBSTRING (their whole group is
                      measured: a row needs its baselines)
  --repetitions N     runs per subject and baseline, alternated; the best counts (default 5,
                      quick 3)
  --list              print the scenario names and exit
  --help              this text
)";

struct command_line {
    settings run;
    std::string json_path;
    std::string filter;
    bool list = false;
    bool help = false;
    std::optional<unsigned> repetitions;
    // The hidden child mode of the memory scenarios.
    std::string memory_child;
    std::size_t memory_child_events = 0;
};

template <class Number>
Number parse_number(std::string_view text, std::string_view option) {
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) {
        throw std::invalid_argument(fmt::format("{} expects a number, got '{}'", option, text));
    }
    return value;
}

command_line parse(std::span<char* const> args) {
    command_line c;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        const auto value = [&]() -> std::string_view {
            if (i + 1 >= args.size())
                throw std::invalid_argument(fmt::format("{} expects a value", arg));
            return args[++i];
        };
        if (arg == "--quick") {
            c.run.quick = true;
        } else if (arg == "--json") {
            c.json_path = value();
        } else if (arg == "--filter") {
            c.filter = value();
        } else if (arg == "--repetitions") {
            c.repetitions = parse_number<unsigned>(value(), arg);
            if (*c.repetitions == 0) throw std::invalid_argument("--repetitions must be >= 1");
        } else if (arg == "--list") {
            c.list = true;
        } else if (arg == "--help" || arg == "-h") {
            c.help = true;
        } else if (arg == "--memory-child") {
            c.memory_child = value();
            c.memory_child_events = parse_number<std::size_t>(value(), arg);
            if (c.memory_child_events == 0) throw std::invalid_argument("--memory-child: 0 events");
        } else {
            throw std::invalid_argument(fmt::format("unknown argument '{}'", arg));
        }
    }
    c.run.repetitions = c.repetitions.value_or(c.run.quick ? 3 : 5);
    return c;
}

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

/// Whether a group has to run for `filter`, and which of its rows to keep.
bool selected(const scenario_group& group, std::string_view filter) {
    return contains(group.name, filter) ||
           std::any_of(group.rows.begin(), group.rows.end(),
                       [&](std::string_view row) { return contains(row, filter); });
}

std::vector<row> kept_rows(const scenario_group& group, std::vector<row> rows,
                           std::string_view filter) {
    if (contains(group.name, filter)) return rows;
    std::erase_if(rows, [&](const row& r) { return !contains(r.name, filter); });
    return rows;
}

/// A group that threw yields one row saying so, so that the report still has every group.
std::vector<row> run_group(const scenario_group& group, const settings& s) {
    try {
        return group.run(s);
    } catch (const std::exception& e) {
        row failed;
        failed.name = fmt::format("{} (group)", group.name);
        failed.problem = fmt::format("the group threw: {}", e.what());
        return {failed};
    }
}

std::string self_path() {
    std::string path(4096, '\0');
    const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size());
    if (n <= 0) return "/proc/self/exe";
    path.resize(static_cast<std::size_t>(n));
    return path;
}

std::string_view compiler() {
#if defined(__clang__)
    constexpr std::string_view version = "clang " __clang_version__;
#elif defined(__GNUC__)
    constexpr std::string_view version = "gcc " __VERSION__;
#else
    constexpr std::string_view version = "unknown";
#endif
    return version.substr(0, version.find_last_not_of(' ') + 1);  // clang's ends in a space
}

constexpr bool optimized() {
#if defined(__OPTIMIZE__)
    return true;
#else
    return false;
#endif
}

int run(const command_line& c) {
    std::vector<const scenario_group*> groups;
    for (const scenario_group& group : scenario_groups()) {
        if (selected(group, c.filter)) groups.push_back(&group);
    }
    if (groups.empty()) {
        fmt::print(stderr, "no scenario matches '{}' (see --list)\n", c.filter);
        return 2;
    }

    const auto started = steady::now();
    settings s = c.run;
    s.self_path = self_path();
    s.rounds_per_microsecond = calibrate().rounds_per_microsecond;
    fmt::print(stderr, "sweet_async_bench: {} run, {} repetitions, {}, {} rounds of churn per us\n",
               s.quick ? "quick" : "full", s.repetitions, compiler(),
               static_cast<unsigned>(s.rounds_per_microsecond));
    if (!optimized()) {
        fmt::print(stderr, "WARNING: built without optimisation; the figures mean nothing "
                           "(use the release preset)\n");
    }

    std::vector<row> rows;
    for (const scenario_group* group : groups) {
        fmt::print(stderr, "== {}\n", group->name);
        std::vector<row> produced = kept_rows(*group, run_group(*group, s), c.filter);
        rows.insert(rows.end(), produced.begin(), produced.end());
    }

    const double wall = std::chrono::duration<double>(steady::now() - started).count();
    fmt::print("\nsweet_async_bench ({}, best of {} alternated runs, {:.1f}s)\n\n",
               s.quick ? "quick" : "full", s.repetitions, wall);
    print_table(stdout, rows);
    if (!c.json_path.empty()) {
        write_json(c.json_path,
                   run_info{s.quick, s.repetitions, wall, s.rounds_per_microsecond,
                            std::string(compiler()), optimized()},
                   rows);
        fmt::print("\nJSON written to {}\n", c.json_path);
    }
    const bool clean =
        std::all_of(rows.begin(), rows.end(), [](const row& r) { return r.problem.empty(); });
    return clean ? 0 : 1;
}

}  // namespace

}  // namespace bench

int main(int argc, char** argv) {
    bench::command_line c;
    try {
        c = bench::parse(std::span<char* const>(argv, static_cast<std::size_t>(argc)));
    } catch (const std::exception& e) {
        fmt::print(stderr, "sweet_async_bench: {}\n\n{}", e.what(), bench::usage);
        return 2;
    }
    if (c.help) {
        fmt::print("{}", bench::usage);
        return 0;
    }
    if (c.list) {
        for (const auto& group : bench::scenario_groups()) {
            for (std::string_view name : group.rows)
                fmt::print("{:<36} (group {})\n", name, group.name);
        }
        return 0;
    }
    try {
        if (!c.memory_child.empty())
            return bench::memory_child_main(c.memory_child, c.memory_child_events);
        return bench::run(c);
    } catch (const std::exception& e) {
        fmt::print(stderr, "sweet_async_bench: {}\n", e.what());
        return 1;
    }
}
