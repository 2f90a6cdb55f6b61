// strategy_adaptive_shift: a workload that changes shape halfway, and the adaptive strategy
// following it.
//
// What it demonstrates:
//   * a coroutine processor whose cost depends on the payload: a `job{.slow = false}` is ~1 us of
//     computation, a `job{.slow = true}` waits ~1 ms on a timer (a remote call). The stream sends
//     many cheap jobs first, then slow ones;
//   * for the cheap phase, `sa::serial{}` is best: `sa::parallel` spawns a coroutine and hands
//     the result back to the consumer per event, which costs more than the work itself;
//   * for the slow phase, `sa::parallel{.workers = {1, 32}}` is best: 32 waits overlap on one
//     thread, while serial waits for each in turn;
//   * `sa::adaptive{.sample_size = 50, .workers = {1, 32}, .recheck_every = 10}` settles on serial
//     for the cheap phase, notices the throughput collapse when the slow phase begins, explores
//     again and settles on parallel;
//   * a `fold_collector` that keeps, per phase, when the last job of it finished (so each phase's
//     duration can be shown without keeping a result per event).
//
// What to look at in the output: the per-phase seconds (serial wins phase 1, parallel phase 2,
// serial takes about a second there), and the adaptive report: it settles on serial, its periodic
// re-checks keep it there, then "workload changed" is followed by an exploration that ends on
// parallel(32) or near it. Adaptive is as fast as serial in phase 1; in phase 2 it pays for
// noticing the change (two serial windows of 50 slow jobs, ~50 ms each) and for exploring again, so
// there it is several times slower than fixed parallel but far faster than serial. With an
// optimised build parallel's per-event cost is small, so fixed parallel wins overall; the point is
// that adaptive needs no knowledge of the workload to avoid the worst case of either.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t cheap_jobs = 30'000;  // phase 1
constexpr std::size_t slow_jobs = 1'000;    // phase 2
constexpr auto slow_wait = 1ms;

// ----- the work ----------------------------------------------------------------------------

struct job {
    bool slow = false;
    std::uint64_t seed = 0;
};

/// What processing a job produced: its value, and when it finished.
struct done {
    bool slow = false;
    std::uint64_t value = 0;
    steady::time_point at;
};

/// About a microsecond of dependent arithmetic.
std::uint64_t small_computation(std::uint64_t x) {
    for (int i = 0; i < 300; ++i) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 29;
    }
    return x;
}

/// The processor: a cheap job computes, a slow one waits for a "remote call" first.
asio::awaitable<done> handle(const job& j) {
    if (j.slow) {
        asio::steady_timer reply(co_await asio::this_coro::executor, slow_wait);
        co_await reply.async_wait(asio::use_awaitable);
    }
    co_return done{j.slow, small_computation(j.seed), steady::now()};
}

/// The aggregate: when the last job of each phase finished, and a checksum of every value (so
/// the computation is used and cannot be optimised away).
struct phase_ends {
    steady::time_point cheap_done;
    steady::time_point slow_done;
    std::uint64_t checksum = 0;
    std::size_t jobs = 0;
};

void fold(phase_ends& ends, const done& d) {
    steady::time_point& end = d.slow ? ends.slow_done : ends.cheap_done;
    end = std::max(end, d.at);
    ends.checksum ^= d.value;
    ++ends.jobs;
}

// ----- running one strategy ----------------------------------------------------------------

/// What one run achieved, for the table.
struct measurement {
    std::string label;
    std::size_t events = 0;
    double phase1 = 0;  // seconds from the start to the last cheap job's end
    double phase2 = 0;  // seconds from there to the last slow job's end
    double seconds = 0;
    std::uint64_t checksum = 0;
    bool ok = false;
    sa::strategy_report report;

    double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0.0; }
};

/// The producer: the cheap jobs, then the slow ones (the last as the final event).
template <class Task>
asio::awaitable<typename Task::result_type> feed(Task task) {
    // Each job's seed is its position in the stream.
    for (std::uint64_t i = 0; i < cheap_jobs; ++i)
        co_await task.send(job{false, i});
    for (std::uint64_t i = 0; i + 1 < slow_jobs; ++i)
        co_await task.send(job{true, cheap_jobs + i});
    co_await task.send_final(job{true, cheap_jobs + slow_jobs - 1});
    co_return co_await task.wait();
}

double seconds_between(steady::time_point from, steady::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

/// Runs both phases under `strategy` on an io_context run by this thread.
template <class Strategy>
measurement run(std::string label, Strategy strategy) {
    fmt::print("running {} ...\n", label);
    asio::io_context io;
    const auto start = steady::now();
    auto task = sa::emitting_builder<job>(io)
                    .name(label)
                    .receiver(std::move(strategy), handle)
                    .collector(sa::fold_collector{phase_ends{start, start}, fold})
                    .start_queue();
    auto future = asio::co_spawn(io, feed(task), asio::use_future);
    io.run();  // returns once the task has ended and nothing is left to do
    const auto result = future.get();
    fmt::print("  {}\n", result);
    const phase_ends& ends = result.result();
    return measurement{
        .label = std::move(label),
        .events = result.stats().sent,
        .phase1 = seconds_between(start, ends.cheap_done),
        .phase2 = seconds_between(ends.cheap_done, ends.slow_done),
        .seconds = std::chrono::duration<double>(result.stats().elapsed).count(),
        .checksum = ends.checksum,
        .ok = result.status() == sa::task_status::completed && result.stats().balanced() &&
              ends.jobs == cheap_jobs + slow_jobs,
        .report = result.strategy_report(),
    };
}

/// The rows as a table; "vs serial" compares each row's events/s with the first row's.
void print_table(std::span<const measurement> rows) {
    fmt::print("\n{:<26} {:>7} {:>9} {:>9} {:>8} {:>10} {:>10}\n", "strategy", "events",
               "phase 1 s", "phase 2 s", "total s", "events/s", "vs serial");
    const double serial_rate = rows.front().rate();
    for (const measurement& m : rows) {
        fmt::print("{:<26} {:>7} {:>9.3f} {:>9.3f} {:>8.3f} {:>10.0f} {:>9.2f}x\n", m.label,
                   m.events, m.phase1, m.phase2, m.seconds, m.rate(),
                   serial_rate > 0 ? m.rate() / serial_rate : 0.0);
    }
}

/// The adaptive report. Phase 1 adds two decisions per periodic re-check (trying parallel(2)
/// again, going back to serial); those in the middle are elided, keeping the start and
/// everything from the detected change of workload on.
void print_adaptive_report(const sa::strategy_report& report) {
    fmt::print("\nadaptive strategy report: {}\n", report.current);
    const auto& decisions = report.decisions;
    const auto change = std::find_if(decisions.begin(), decisions.end(), [](const std::string& d) {
        return d.find("workload changed") != std::string::npos;
    });
    constexpr std::ptrdiff_t head = 4;
    const bool elide = change != decisions.end() && change - decisions.begin() > head + 1;
    for (auto d = decisions.begin(); d != decisions.end(); ++d) {
        if (elide && d == decisions.begin() + head) {
            fmt::print("  ... {} more decisions of the same kind (periodic re-checks) ...\n",
                       change - d);
            d = change;
        }
        fmt::print("  {}\n", *d);
    }
}

}  // namespace

int main() {
    fmt::print("strategy_adaptive_shift: phase 1 = {} cheap jobs (~1 us each), "
               "phase 2 = {} slow jobs (~{} ms wait each)\n\n",
               cheap_jobs, slow_jobs, slow_wait.count());
    std::vector<measurement> rows;
    rows.push_back(run("serial", sa::serial{}));
    rows.push_back(run("parallel{1,32}", sa::parallel{.workers = {1, 32}}));
    rows.push_back(run("adaptive{50, 1..32, 10}",
                       sa::adaptive{.sample_size = 50, .workers = {1, 32}, .recheck_every = 10}));
    print_table(rows);

    print_adaptive_report(rows.back().report);

    const bool ok = std::all_of(rows.begin(), rows.end(), [&](const measurement& m) {
        return m.ok && m.checksum == rows.front().checksum;
    });
    return ok ? 0 : 1;
}
