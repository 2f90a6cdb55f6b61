// bench/scenarios_memory.cpp: bounded memory with the fold collector (events that succeed, and
// events that all fail), and what the default keyed collection costs per result.
//
// Peak RSS (VmHWM) only ever grows, so each figure comes from a child process of its own: this
// executable again, with the hidden `--memory-child` argument, which prints its figures on one
// line of stdout.
#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace bench {

child_figures run_memory_child(const settings& s, const std::string& collector,
                               std::size_t events) {
    int out[2];
    if (::pipe(out) != 0) throw sweet_async::system_error(errno, std::generic_category(), "pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string count = std::to_string(events);
    std::vector<char*> argv{
        const_cast<char*>(s.self_path.c_str()), const_cast<char*>("--memory-child"),
        const_cast<char*>(collector.c_str()), const_cast<char*>(count.c_str()), nullptr};
    pid_t pid = 0;
    const int spawned =
        ::posix_spawn(&pid, s.self_path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
        ::close(out[0]);
        throw sweet_async::system_error(spawned, std::generic_category(), "posix_spawn");
    }
    std::string text;
    char buffer[256];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }

    child_figures f;
    std::uint64_t processed = 0;
    double seconds = 0;
    if (std::sscanf(text.c_str(), "peak_rss_bytes=%" SCNu64 " events=%" SCNu64 " seconds=%lf",
                    &f.peak_rss_bytes, &processed, &seconds) != 3 ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        f.run.problem = fmt::format("child ({} {}) failed: {}", collector, events, text);
    }
    f.run.events = processed;
    f.run.seconds = seconds;
    return f;
}

measured as_measured(const std::string& label, const child_figures& child) {
    return measured{label, child.run, {child.run.events_per_second()}, child.run.problem};
}

row rss_row(std::string name, const std::string& subject_label, const child_figures& subject,
            const measured& baseline, const child_figures& baseline_figures,
            std::optional<double> target) {
    row r = compare(std::move(name), as_measured(subject_label, subject), baseline, target,
                    goal::at_most);
    r.ratio_of = "peak_rss_bytes";
    r.ratio = baseline_figures.peak_rss_bytes > 0
                  ? std::optional<double>(static_cast<double>(subject.peak_rss_bytes) /
                                          static_cast<double>(baseline_figures.peak_rss_bytes))
                  : std::nullopt;
    r.peak_rss_bytes = subject.peak_rss_bytes;
    r.metrics.push_back(
        {"baseline_peak_rss_bytes", static_cast<double>(baseline_figures.peak_rss_bytes)});
    return r;
}

namespace {

/// The processor of the failing child: refuses every event.
struct refuse_every_event {
    std::uint64_t operator()(const std::uint64_t&) const {
        throw std::runtime_error("refused, as the scenario wants");
    }
};

/// Streams `events` events that all fail into a fold collector: what is left to grow is the
/// record of their errors, which the ledger retains up to its limit (1000) and counts beyond it.
run_result run_all_failing(std::size_t events) {
    asio::io_context io;
    const auto started = steady::now();
    auto task = sa::emitting_builder<std::uint64_t>(io)
                    .name("all-failing")
                    .receiver(sa::serial{}, refuse_every_event{})
                    .collector(sa::fold_collector{std::uint64_t{0}, sum_in_place{}})
                    .start_queue();
    auto future = asio::co_spawn(io, produce(task, events, index_payload{}, send_path::try_first),
                                 asio::use_future);
    io.run();
    const auto result = future.get();
    run_result r{.events = result.stats().failed, .seconds = seconds_since(started)};
    const auto& stats = result.stats();
    const std::size_t retained = std::min<std::size_t>(events, task.options().retained_errors);
    if (result.status() != sa::task_status::completed || !stats.balanced() ||
        stats.failed != events || result.errors().size() != retained ||
        result.errors_not_retained() != events - retained) {
        r.problem = fmt::format("expected {} events failed, {} errors retained: got {} ({} "
                                "retained)",
                                events, retained, result, result.errors().size());
    }
    return r;
}

}  // namespace

int memory_child_main(std::string_view collector, std::size_t events) {
    run_result r;
    if (collector == "fold") {
        r = run_on_io_context(trivial_fold(sa::serial{}), events, index_payload{});
    } else if (collector == "keyed") {
        r = run_on_io_context(trivial_keyed(sa::serial{}), events, index_payload{});
    } else if (collector == "fold-failing") {
        r = run_all_failing(events);
    } else if (collector == "flow-slow") {
        r = run_slow_flow(events);
    } else {
        fmt::print(
            stderr,
            "--memory-child: unknown collector '{}' (fold, fold-failing, keyed or flow-slow)\n",
            collector);
        return 2;
    }
    // The keyed collection is gone by now, but VmHWM remembers its peak.
    fmt::print("peak_rss_bytes={} events={} seconds={}\n", peak_rss_bytes(), r.events, r.seconds);
    if (!r.problem.empty()) fmt::print(stderr, "{}\n", r.problem);
    return r.problem.empty() ? 0 : 1;
}

std::vector<row> run_memory_group(const settings& s) {
    const std::size_t small = s.pick<std::size_t>(1'000'000, 200'000);
    const std::size_t large = small * 10;
    const auto label = [](std::string_view collector, std::size_t events) {
        return fmt::format("{} collector, {} events", collector, si(static_cast<double>(events)));
    };
    fmt::print(stderr, "  child processes: fold {}, fold {}, fold failing {}, keyed {}\n", small,
               large, small, small);
    const child_figures fold_small = run_memory_child(s, "fold", small);
    const child_figures fold_large = run_memory_child(s, "fold", large);
    const child_figures fold_failing = run_memory_child(s, "fold-failing", small);
    const child_figures keyed = run_memory_child(s, "keyed", small);

    const measured baseline = as_measured(label("fold", small), fold_small);
    const row bounded = rss_row("memory.fold.rss_10x_events", label("fold", large), fold_large,
                                baseline, fold_small, 1.10);
    const row all_failing =
        rss_row("memory.fold.all_failing", label("fold, every event failing,", small), fold_failing,
                baseline, fold_small, 1.10);
    row per_result = rss_row("memory.keyed.bytes_per_result", label("keyed", small), keyed,
                             baseline, fold_small, {});
    const double growth =
        static_cast<double>(keyed.peak_rss_bytes) - static_cast<double>(fold_small.peak_rss_bytes);
    per_result.metrics.push_back({"bytes_per_result", growth / static_cast<double>(small)});
    per_result.metrics.push_back(
        {"entry_bytes", static_cast<double>(sizeof(sa::keyed_entry<std::uint64_t>))});
    per_result.note = "bytes_per_result = (peak RSS keyed - peak RSS fold) / events";
    return {bounded, all_failing, per_result};
}

}  // namespace bench
