// strategy_cpu_bound: the same CPU-bound work under serial, parallel and adaptive.
//
// What it demonstrates:
//   * a synchronous processor that burns ~50-100 us of real computation per event (a chain of
//     dependent multiply-xorshift steps; its result is collected and checksummed, so the compiler
//     cannot drop it);
//   * on an `asio::thread_pool pool(2)`, `sa::parallel{.workers = {2, 2}}` runs the processor on
//     both threads at once, while `sa::serial{}` uses one;
//   * `sa::adaptive` measures serial, then parallel(2), parallel(4), ... and settles on the best;
//   * a task on a single-threaded `asio::io_context` gains nothing from `parallel` by itself (the
//     processor can only run on that one thread), but does with `.offload = pool.get_executor()`,
//     which runs the processor on the pool while the task itself stays on the io_context. Each
//     result then travels back to the io_context thread before the next event is handed out, so
//     keeping a few more events in flight than the pool has threads ({4, 4}) hides that trip.
//
// What to look at in the output: the "vs serial" columns (each table compares with the serial run
// on the same executor): close to 2x for parallel on two cores (less when the machine is busy),
// about 1x for parallel on the io_context without offload; the checksum line (every run computed
// the same results); and the adaptive report (what it measured and why it settled where it did).

#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;

namespace {

constexpr std::size_t events_per_run = 2000;
/// Steps of the hash chain per event: about 50-100 us on a current x86-64 core when optimised.
/// Unoptimised builds (Debug, sanitizers) run the loop up to three times slower, so they take
/// fewer steps and the example stays quick there; read the figures of an optimised build.
#if defined(__OPTIMIZE__)
constexpr unsigned rounds_per_event = 30'000;
#else
constexpr unsigned rounds_per_event = 10'000;
#endif

// ----- the work ----------------------------------------------------------------------------

/// `rounds` dependent multiply-xorshift steps from `seed`: each step needs the one before, so
/// the CPU can neither overlap nor skip them, and there is no closed form to fold them into.
std::uint64_t churn(std::uint64_t seed, unsigned rounds) {
    std::uint64_t x = seed + 0x9e3779b97f4a7c15ULL;
    for (unsigned i = 0; i < rounds; ++i) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 29;
    }
    return x;
}

/// The processor: pure, so it is safe to call from several threads at once (which `parallel`
/// and `adaptive` do).
std::uint64_t hash_event(const std::uint64_t& seed) {
    return churn(seed, rounds_per_event);
}

// ----- running one strategy ----------------------------------------------------------------

/// What one run achieved, for the table.
struct measurement {
    std::string label;
    std::size_t events = 0;
    double seconds = 0;
    std::uint64_t checksum = 0;
    bool ok = false;
    sa::strategy_report report;  // what the strategy ended on, and its decisions

    double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0.0; }
};

/// The producer: sends seeds 0..events-1 (the last one as the final event), then waits for the
/// task's result. Takes the task handle by value: the coroutine may outlive the caller's frame.
template <class Task>
asio::awaitable<typename Task::result_type> feed(Task task, std::size_t events) {
    for (std::uint64_t seed = 0; seed + 1 < events; ++seed)
        co_await task.send(seed);
    co_await task.send_final(events - 1);
    co_return co_await task.wait();
}

/// Prints the run's result line and turns it into a table row. The checksum combines every
/// collected hash; it must be the same for every strategy.
template <class Result>
measurement summarise(std::string label, const Result& result) {
    fmt::print("  {}\n", result);
    std::uint64_t checksum = 0;
    for (const auto& entry : result.collection())
        checksum ^= entry.value;
    return measurement{
        .label = std::move(label),
        .events = result.stats().sent,
        .seconds = std::chrono::duration<double>(result.stats().elapsed).count(),
        .checksum = checksum,
        .ok = result.status() == sa::task_status::completed && result.stats().balanced() &&
              result.stats().processed == events_per_run,
        .report = result.strategy_report(),
    };
}

/// Runs the work on `pool` under `strategy`: the task, its producer and its processor all share
/// the pool's two threads.
template <class Strategy>
measurement run_on_pool(asio::thread_pool& pool, std::string label, Strategy strategy) {
    fmt::print("running {} ...\n", label);
    auto task = sa::emitting_builder<std::uint64_t>(pool)
                    .name(label)
                    .receiver(strategy, hash_event)
                    .start_queue();
    auto result = asio::co_spawn(pool, feed(task, events_per_run), asio::use_future).get();
    return summarise(std::move(label), result);
}

/// Runs the work under `strategy` on `io`, driven by this thread alone.
template <class Strategy>
measurement run_on_io_context(asio::io_context& io, std::string label, Strategy strategy) {
    fmt::print("running {} ...\n", label);
    auto task = sa::emitting_builder<std::uint64_t>(io)
                    .name(label)
                    .receiver(std::move(strategy), hash_event)
                    .start_queue();
    auto result = asio::co_spawn(io, feed(task, events_per_run), asio::use_future);
    io.restart();
    io.run();  // returns once the task has ended and nothing is left to do
    return summarise(std::move(label), result.get());
}

// ----- the report --------------------------------------------------------------------------

/// The rows as a table; "vs serial" compares each row's events/s with the first row's.
void print_table(std::string_view title, std::span<const measurement> rows) {
    fmt::print("\n{:<30} {:>7} {:>8} {:>10} {:>10}\n", title, "events", "seconds", "events/s",
               "vs serial");
    const double serial_rate = rows.front().rate();
    for (const measurement& m : rows) {
        fmt::print("  {:<28} {:>7} {:>8.3f} {:>10.0f} {:>9.2f}x\n", m.label, m.events, m.seconds,
                   m.rate(), serial_rate > 0 ? m.rate() / serial_rate : 0.0);
    }
}

}  // namespace

int main() {
    fmt::print("strategy_cpu_bound: {} events per run, {} hash steps per event\n", events_per_run,
               rounds_per_event);
    // The io_context is declared first so that it outlives the pool: with `offload`, a pool thread
    // that has just handed a result back may, for a moment after the task has ended, still hold a
    // copy of the task's strand, which needs the io_context when it is released.
    asio::io_context io;
    asio::thread_pool pool(2);

    fmt::print("\nthe task on thread_pool(2): processors may use both threads\n");
    std::vector<measurement> on_pool;
    on_pool.push_back(run_on_pool(pool, "serial", sa::serial{}));
    on_pool.push_back(run_on_pool(pool, "parallel{2,2}", sa::parallel{.workers = {2, 2}}));
    on_pool.push_back(run_on_pool(pool, "adaptive{workers 1..4}",
                                  sa::adaptive{.sample_size = 100, .workers = {1, 4}}));

    fmt::print(
        "\nthe task on an io_context run by one thread; offload moves processors to the pool\n");
    std::vector<measurement> on_io;
    on_io.push_back(run_on_io_context(io, "serial", sa::serial{}));
    on_io.push_back(run_on_io_context(io, "parallel{2,2}", sa::parallel{.workers = {2, 2}}));
    on_io.push_back(
        run_on_io_context(io, "parallel{2,2} + offload",
                          sa::parallel{.workers = {2, 2}, .offload = pool.get_executor()}));
    on_io.push_back(
        run_on_io_context(io, "parallel{4,4} + offload",
                          sa::parallel{.workers = {4, 4}, .offload = pool.get_executor()}));

    print_table("task on thread_pool(2)", on_pool);
    print_table("task on io_context (1 thread)", on_io);

    const double serial_us = on_pool.front().seconds * 1e6 / static_cast<double>(events_per_run);
    fmt::print("\nserial cost per event on the pool: {:.1f} us\n", serial_us);

    bool ok = true;
    for (const auto* rows : {&on_pool, &on_io}) {
        for (const measurement& m : *rows) {
            ok = ok && m.ok && m.checksum == on_pool.front().checksum;
        }
    }
    fmt::print("checksum {:016x}: {}\n", on_pool.front().checksum,
               ok ? "every run computed the same results" : "RUNS DISAGREE (or an event was lost)");

    fmt::print("\nadaptive strategy report: {}\n", on_pool.back().report);
    return ok ? 0 : 1;
}
