// producers_on_threads: plain std::threads feeding a task that runs on an io_context thread.
//
// What it demonstrates:
//   * the task lives on an `asio::io_context` run by one thread of its own; the producers are
//     ordinary `std::thread`s that never run a coroutine. Every member of a task handle may be
//     called from any thread;
//   * three ways to send from a plain thread, one per sensor:
//       0. `task.async_send(payload, asio::use_future).get()`: the simplest. It blocks while the
//          channel is full (backpressure for threads) and throws if the task stopped. Like every
//          Asio operation it completes through the task's executor, never inline, so each call
//          is a round trip to the io_context thread;
//       1. `task.try_send(payload)` first, and `async_send(..., use_future).get()` only when it
//          answers `full`: no round trip while there is room, blocking only while the channel is
//          full (what log_digest does);
//       2. `task.try_send(payload)` alone: never blocks; returns `full` (the payload is left
//          untouched, so the same reading can be offered again) or `closed`. The thread chooses
//          what to do meanwhile; this one backs off for 100 us;
//   * events from one producer arrive in the order it sent them, whatever the other producers
//     do: the processor checks each sensor's sequence numbers;
//   * `close()` once every producer has finished ends the stream without a final event, and
//     `task.async_wait(asio::use_future).get()` waits for the result from main;
//   * progress: main prints the task's live `stats()` every 250 ms while the producers run.

#include <sweet_async/sweet_async.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t sensors = 3;
constexpr std::uint64_t readings_per_sensor = 20'000;

struct reading {
    std::size_t sensor = 0;
    std::uint64_t sequence = 0;  // per sensor: 0, 1, 2, ...
    double celsius = 0;
};

/// The processor: a few microseconds of filtering, standing in for real work. It runs on the
/// io_context thread, one reading at a time (serial), and returns the reading with its filtered
/// value.
reading smooth(const reading& r) {
    double x = r.celsius;
    for (int round = 0; round < 1500; ++round)
        x = 0.999 * x + 0.001 * r.celsius;
    return {r.sensor, r.sequence, x};
}

/// The aggregate a fold collector keeps: readings per sensor and how many arrived out of the
/// order their sensor sent them (must stay 0).
struct summary {
    std::array<std::uint64_t, sensors> count{};
    std::array<std::uint64_t, sensors> next{};
    std::uint64_t out_of_order = 0;

    void add(const reading& r) {
        if (r.sequence != next[r.sensor]) ++out_of_order;
        next[r.sensor] = r.sequence + 1;
        ++count[r.sensor];
    }
};

/// What the producers did, read by main for the progress lines.
struct producer_counts {
    std::array<std::atomic<std::uint64_t>, sensors> sent{};
    std::atomic<std::uint64_t> full_answers{0};  // sensor 2's try_send found the channel full
};

double temperature(std::size_t sensor, std::uint64_t sequence) {
    return 20.0 + static_cast<double>(sensor) + static_cast<double>(sequence % 100) * 0.01;
}

}  // namespace

int main() {
    fmt::print("producers_on_threads: {} threads send {} readings each to a task on an io_context "
               "thread\n\n",
               sensors, readings_per_sensor);

    asio::io_context io;
    // The io_context must keep running while the producers start up and between their sends:
    // the work guard keeps run() from returning until we reset it.
    auto work = asio::make_work_guard(io);
    std::thread io_thread([&io] { io.run(); });

    auto task = sa::emitting_builder<reading>(io)
                    .name("sensors")
                    .capacity(64)
                    .receiver(sa::serial{}, smooth)
                    .collector(sa::fold_collector{summary{},
                                                  [](summary& s, const reading& r) { s.add(r); }})
                    .start_queue();

    producer_counts counts;
    std::vector<std::thread> producers;
    // Sensor 0: a blocking send per reading.
    producers.emplace_back([task, &counts]() mutable {
        constexpr std::size_t sensor = 0;
        for (std::uint64_t i = 0; i < readings_per_sensor; ++i) {
            task.async_send(reading{sensor, i, temperature(sensor, i)}, asio::use_future)
                .get();  // throws sweet_async::system_error if the task stopped accepting events
            ++counts.sent[sensor];
        }
    });
    // Sensor 1: try_send, and block only while the channel is full.
    producers.emplace_back([task, &counts]() mutable {
        constexpr std::size_t sensor = 1;
        for (std::uint64_t i = 0; i < readings_per_sensor; ++i) {
            const reading r{sensor, i, temperature(sensor, i)};
            const sweet_async::error_code ec = task.try_send(r);
            if (ec == sa::async_task_error::full) {
                task.async_send(r, asio::use_future).get();  // throws if the task stopped meanwhile
            } else if (ec) {
                return;  // closed: nothing more to do
            }
            ++counts.sent[sensor];
        }
    });
    // Sensor 2 never blocks: on `full` it keeps the reading and tries again a little later.
    producers.emplace_back([task, &counts]() mutable {
        constexpr std::size_t sensor = 2;
        for (std::uint64_t i = 0; i < readings_per_sensor; ++i) {
            const reading r{sensor, i, temperature(sensor, i)};
            for (;;) {
                const sweet_async::error_code ec = task.try_send(r);
                if (!ec) break;
                if (ec != sa::async_task_error::full) return;  // closed: nothing more to do
                ++counts.full_answers;
                std::this_thread::sleep_for(100us);
            }
            ++counts.sent[sensor];
        }
    });

    // Progress while the producers run.
    std::uint64_t total_sent = 0;
    do {
        std::this_thread::sleep_for(250ms);
        const sa::task_stats stats = task.stats();
        total_sent = counts.sent[0] + counts.sent[1] + counts.sent[2];
        fmt::print("  {:>6.2f} s: sent {:>5} / {:>5} / {:>5} | processed {:>5} | backlog {:>3} | "
                   "try_send found it full {} times\n",
                   std::chrono::duration<double>(stats.elapsed).count(), counts.sent[0].load(),
                   counts.sent[1].load(), counts.sent[2].load(), stats.processed,
                   stats.sent - stats.finished(), counts.full_answers.load());
    } while (total_sent < sensors * readings_per_sensor);

    for (std::thread& producer : producers)
        producer.join();
    task.close();  // every producer is done: end the stream (no final event)
    const auto result = task.async_wait(asio::use_future).get();
    work.reset();  // let io.run() return now that nothing is left to do
    io_thread.join();

    const summary& s = result.result();
    fmt::print("\n{}\n", result);
    fmt::print("per sensor: {} / {} / {} readings, {} out of order\n", s.count[0], s.count[1],
               s.count[2], s.out_of_order);

    bool ok = result.status() == sa::task_status::completed && result.stats().balanced() &&
              result.stats().processed == sensors * readings_per_sensor && s.out_of_order == 0;
    for (std::uint64_t count : s.count)
        ok = ok && count == readings_per_sensor;
    if (!ok) fmt::print("\nsomething is off: see the lines above\n");
    return ok ? 0 : 1;
}
