// strategy_batched_sink: writing events to a "database" whose every call has a fixed cost,
// one row per call (serial) versus many rows per call (batched, adaptive).
//
// What it demonstrates:
//   * a per-batch processor, `std::vector<R>(std::span<const T>)`: one call inserts a batch of
//     rows and returns one result per row, in order. Each call costs a round trip (~200 us) plus
//     ~1 us per row, spent busy-waiting as a blocking client library would;
//   * `sa::serial{}` calls the same processor with batches of one (the library does that by
//     itself for per-event strategies), so it pays the round trip for every row;
//   * `sa::batched{.batch_size = N, .window = 5ms}` pays it once per N rows;
//   * `sa::adaptive` finds batching by itself (`can_batch` is set automatically for a per-batch
//     processor): after serial and parallel(2) (no gain: the task has one thread), it tries
//     batched(8), batched(16), ... and settles on a large batch size;
//   * the window: a slow trickle (one row every 2 ms) never fills a batch of 100, so each batch
//     goes when its first row has waited 5 ms. To show what each row waited, every row carries
//     the steady_clock time it was sent, and the sink returns, per row, the time from that to the
//     start of the call that inserted it. (A per-batch processor sees payloads only, not the
//     events with their creation times, so the timestamp travels in the payload.)
//
// What to look at in the output: "vs serial" (batching wins by the ratio of the round trip to the
// per-row cost), the sink's call counts, the adaptive report, and in the trickle part the batch
// sizes and the longest wait (the window, 5 ms, plus a little scheduling slack).

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
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

constexpr std::size_t serial_events = 2000;
constexpr std::size_t batching_events = 20000;

// ----- the sink ----------------------------------------------------------------------------

/// One row to insert, stamped with the time it was sent.
struct row {
    std::uint64_t id = 0;
    steady::time_point sent;
};

/// What the sink answers for each row: which call inserted it, and how long the row had waited
/// from being sent to the start of that call.
struct receipt {
    std::size_t call = 0;
    steady::duration waited{};
};

/// Spends `d` on this thread without yielding it: what a blocking round trip costs the caller.
void busy_wait(steady::duration d) {
    const auto until = steady::now() + d;
    while (steady::now() < until) {
    }
}

/// A stand-in for a database client: every call costs a round trip plus a little per row.
class fake_database {
public:
    static constexpr auto round_trip = 200us;
    static constexpr auto per_row = 1us;

    /// Inserts `rows` in one call. Safe to call from several threads (the counter is atomic).
    std::vector<receipt> insert(std::span<const row> rows) {
        const auto started = steady::now();
        const std::size_t call = ++calls_;
        busy_wait(round_trip + per_row * rows.size());
        std::vector<receipt> receipts;
        receipts.reserve(rows.size());
        for (const row& r : rows)
            receipts.push_back({call, started - r.sent});
        return receipts;
    }

    std::size_t calls() const { return calls_.load(); }

private:
    std::atomic<std::size_t> calls_{0};
};

// ----- running one strategy ----------------------------------------------------------------

/// What one run achieved, for the table.
struct measurement {
    std::string label;
    std::size_t events = 0;
    double seconds = 0;
    std::size_t calls = 0;  // processor calls, i.e. round trips to the database
    bool ok = false;
    sa::strategy_report report;

    double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0.0; }
};

/// The producer of the throughput runs: sends every row at once (the channel's backpressure
/// paces it), the last as the final event, then waits for the result.
template <class Task>
asio::awaitable<typename Task::result_type> send_all(Task task, std::size_t events) {
    for (std::uint64_t id = 0; id + 1 < events; ++id)
        co_await task.send(row{id, steady::now()});
    co_await task.send_final(row{events - 1, steady::now()});
    co_return co_await task.wait();
}

/// Inserts `events` rows under `strategy`, on an io_context run by this thread.
template <class Strategy>
measurement run(std::string label, Strategy strategy, std::size_t events) {
    fmt::print("running {} with {} rows ...\n", label, events);
    asio::io_context io;
    fake_database db;
    auto task = sa::emitting_builder<row>(io)
                    .name(label)
                    .receiver(std::move(strategy),
                              [&db](std::span<const row> rows) { return db.insert(rows); })
                    .start_queue();
    auto future = asio::co_spawn(io, send_all(task, events), asio::use_future);
    io.run();  // returns once the task has ended and nothing is left to do
    const auto result = future.get();
    fmt::print("  {}\n", result);
    return measurement{
        .label = std::move(label),
        .events = result.stats().sent,
        .seconds = std::chrono::duration<double>(result.stats().elapsed).count(),
        .calls = db.calls(),
        .ok = result.status() == sa::task_status::completed && result.stats().balanced() &&
              result.stats().processed == events,
        .report = result.strategy_report(),
    };
}

/// The rows as a table; "vs serial" compares each row's events/s with the first row's.
void print_table(std::span<const measurement> rows) {
    fmt::print("\n{:<30} {:>7} {:>8} {:>10} {:>10} {:>7}\n", "strategy", "events", "seconds",
               "events/s", "vs serial", "calls");
    const double serial_rate = rows.front().rate();
    for (const measurement& m : rows) {
        fmt::print("{:<30} {:>7} {:>8.3f} {:>10.0f} {:>9.2f}x {:>7}\n", m.label, m.events,
                   m.seconds, m.rate(), serial_rate > 0 ? m.rate() / serial_rate : 0.0, m.calls);
    }
}

// ----- the window ----------------------------------------------------------------------------

double milliseconds(steady::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

/// The producer of the trickle: one row every `gap`, then the stream is closed.
template <class Task>
asio::awaitable<typename Task::result_type> trickle(Task task, std::size_t events,
                                                    steady::duration gap) {
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (std::uint64_t id = 0; id < events; ++id) {
        co_await task.send(row{id, steady::now()});
        pause.expires_after(gap);
        co_await pause.async_wait(asio::use_awaitable);
    }
    task.close();  // a partial batch also goes as soon as the stream ends
    co_return co_await task.wait();
}

/// Sends 20 rows, one every 2 ms, to a batched sink with room for 100 rows per batch and a 5 ms
/// window; prints each call with its rows and their waits. Returns false if a row waited far
/// longer than the window.
bool show_window() {
    constexpr std::size_t events = 20;
    constexpr auto gap = 2ms;
    const sa::batched strategy{.batch_size = 100, .window = 5ms};
    fmt::print("\nthe window: {} rows, one every {} ms, under {}\n", events, gap.count(), strategy);

    asio::io_context io;
    fake_database db;
    auto task =
        sa::emitting_builder<row>(io)
            .name("trickle")
            .receiver(strategy, [&db](std::span<const row> rows) { return db.insert(rows); })
            .start_queue();
    auto future = asio::co_spawn(io, trickle(task, events, gap), asio::use_future);
    io.run();
    const auto result = future.get();

    // The receipts say, per row, which call inserted it and how long it had waited.
    struct call_summary {
        std::size_t rows = 0;
        steady::duration longest{};
        steady::duration shortest = steady::duration::max();
    };
    std::map<std::size_t, call_summary> calls;
    for (const auto& entry : result.collection()) {
        call_summary& c = calls[entry.value.call];
        ++c.rows;
        c.longest = std::max(c.longest, entry.value.waited);
        c.shortest = std::min(c.shortest, entry.value.waited);
    }
    steady::duration longest{};
    for (const auto& [call, c] : calls) {
        fmt::print("  call {:>2}: {:>2} rows, waited {:4.2f} ms (first row) to {:4.2f} ms (last)\n",
                   call, c.rows, milliseconds(c.longest), milliseconds(c.shortest));
        longest = std::max(longest, c.longest);
    }
    fmt::print("  {}\n", result);
    fmt::print("  {} calls for {} rows; the longest any row waited: {:.2f} ms (window {} ms)\n",
               calls.size(), events, milliseconds(longest),
               std::chrono::duration_cast<std::chrono::milliseconds>(strategy.window).count());
    // At this pace a batch of 100 would take 200 ms to fill; the window must have sent every row
    // long before that (the bound is loose because a busy machine may run timers late).
    const steady::duration time_to_fill = gap * static_cast<std::int64_t>(strategy.batch_size);
    return result.stats().processed == events && longest < time_to_fill;
}

}  // namespace

int main() {
    fmt::print("strategy_batched_sink: each sink call costs {} us + {} us per row\n\n",
               fake_database::round_trip.count(), fake_database::per_row.count());
    std::vector<measurement> rows;
    rows.push_back(run("serial (batches of one)", sa::serial{}, serial_events));
    rows.push_back(
        run("batched{10, 5ms}", sa::batched{.batch_size = 10, .window = 5ms}, batching_events));
    rows.push_back(
        run("batched{100, 5ms}", sa::batched{.batch_size = 100, .window = 5ms}, batching_events));
    rows.push_back(run("adaptive{sample 100}", sa::adaptive{.sample_size = 100}, batching_events));
    print_table(rows);
    fmt::print("\nadaptive strategy report: {}\n", rows.back().report);

    const bool window_ok = show_window();
    const bool ok = window_ok && std::all_of(rows.begin(), rows.end(),
                                             [](const measurement& m) { return m.ok; });
    return ok ? 0 : 1;
}
