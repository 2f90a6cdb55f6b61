// strategy_io_bound: the same waiting work under serial, parallel (unordered and ordered) and
// adaptive, on an io_context run by one thread.
//
// What it demonstrates:
//   * a coroutine processor, `asio::awaitable<R>(const T&)`, that waits ~2 ms on an
//     `asio::steady_timer`: a stand-in for a call to a remote service. It uses no CPU while it
//     waits, so one thread can keep many such calls in flight;
//   * `sa::serial{}` makes one call at a time: ~2 ms per event, whatever the hardware;
//   * `sa::parallel{.workers = {1, 64}}` keeps up to 64 calls in flight; results reach the
//     collector as calls complete, so they come out of order (the service's latency varies from
//     1.5 to 2.5 ms per request);
//   * `.ordered = true` processes just as concurrently but hands results to the collector in
//     arrival order: a slow call holds back the results that overtook it, not the processing;
//   * `sa::adaptive` with workers {1, 64} measures serial, then doubles the concurrency while it
//     pays, and settles near the top.
//
// Serial gets fewer events than the others so that it finishes in about a second; compare the
// events/s columns. What to look at in the output: "vs serial" (tens of times for the concurrent
// runs), the "in order" column, and the adaptive report. Adaptive ends well below parallel in this
// short run: its first windows of 100 events run serial (~0.2 s), parallel(2), parallel(4), ...
// before it reaches 64, and each window waits for its last calls before the next one starts.

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

namespace {

constexpr std::size_t serial_events = 400;
constexpr std::size_t concurrent_events = 4000;

// ----- the work ----------------------------------------------------------------------------

/// How long the service takes to answer request `n`: 1.5 to 2.5 ms, 2 ms on average, and the
/// same in every run (a fixed spread, so that answers overtake each other).
std::chrono::microseconds service_latency(std::uint64_t request) {
    return std::chrono::microseconds(1500 + (request * 7919) % 1001);
}

/// The processor: "calls the service" for `request` and returns its answer (here the request
/// number itself, so the order in which results were collected can be checked). The library
/// keeps the payload alive until the coroutine has finished, so taking it by reference is safe.
asio::awaitable<std::uint64_t> call_service(const std::uint64_t& request) {
    asio::steady_timer reply(co_await asio::this_coro::executor, service_latency(request));
    co_await reply.async_wait(asio::use_awaitable);
    co_return request;
}

// ----- running one strategy ----------------------------------------------------------------

/// What one run achieved, for the table.
struct measurement {
    std::string label;
    std::size_t events = 0;
    double seconds = 0;
    bool in_order = false;  // results were collected in the order the requests were sent
    bool ok = false;
    sa::strategy_report report;

    double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0.0; }
};

/// The producer: sends requests 0..events-1 (the last as the final event), then waits for the
/// result. Takes the task handle by value: the coroutine may outlive the caller's frame.
template <class Task>
asio::awaitable<typename Task::result_type> feed(Task task, std::size_t events) {
    for (std::uint64_t request = 0; request + 1 < events; ++request)
        co_await task.send(request);
    co_await task.send_final(events - 1);
    co_return co_await task.wait();
}

/// Runs `events` requests under `strategy` on a fresh io_context, driven by this thread alone.
template <class Strategy>
measurement run(std::string label, Strategy strategy, std::size_t events) {
    fmt::print("running {} with {} events ...\n", label, events);
    asio::io_context io;
    auto task = sa::emitting_builder<std::uint64_t>(io)
                    .name(label)
                    .receiver(std::move(strategy), call_service)
                    .start_queue();
    auto future = asio::co_spawn(io, feed(task, events), asio::use_future);
    io.run();  // returns once the task has ended and nothing is left to do
    const auto result = future.get();
    fmt::print("  {}\n", result);

    std::vector<std::uint64_t> answers;
    for (const auto& entry : result.collection())
        answers.push_back(entry.value);
    return measurement{
        .label = std::move(label),
        .events = result.stats().sent,
        .seconds = std::chrono::duration<double>(result.stats().elapsed).count(),
        .in_order = std::is_sorted(answers.begin(), answers.end()),
        .ok = result.status() == sa::task_status::completed && result.stats().balanced() &&
              answers.size() == events,
        .report = result.strategy_report(),
    };
}

// ----- the report --------------------------------------------------------------------------

/// The rows as a table; "vs serial" compares each row's events/s with the first row's.
void print_table(std::span<const measurement> rows) {
    fmt::print("\n{:<30} {:>7} {:>8} {:>10} {:>10} {:>9}\n", "strategy", "events", "seconds",
               "events/s", "vs serial", "in order");
    const double serial_rate = rows.front().rate();
    for (const measurement& m : rows) {
        fmt::print("{:<30} {:>7} {:>8.3f} {:>10.0f} {:>9.2f}x {:>9}\n", m.label, m.events,
                   m.seconds, m.rate(), serial_rate > 0 ? m.rate() / serial_rate : 0.0,
                   m.in_order ? "yes" : "no");
    }
}

}  // namespace

int main() {
    fmt::print("strategy_io_bound: each event waits 1.5-2.5 ms (2 ms on average) on a timer\n\n");
    std::vector<measurement> rows;
    rows.push_back(run("serial", sa::serial{}, serial_events));
    rows.push_back(run("parallel{1,64}", sa::parallel{.workers = {1, 64}}, concurrent_events));
    rows.push_back(run("parallel{1,64}, ordered", sa::parallel{.workers = {1, 64}, .ordered = true},
                       concurrent_events));
    rows.push_back(
        run("adaptive{workers 1..64}", sa::adaptive{.workers = {1, 64}}, concurrent_events));
    print_table(rows);

    fmt::print("\nadaptive strategy report: {}\n", rows.back().report);

    const bool ok =
        std::all_of(rows.begin(), rows.end(), [](const measurement& m) { return m.ok; }) &&
        rows[0].in_order && rows[2].in_order;  // serial and ordered must keep order
    return ok ? 0 : 1;
}
