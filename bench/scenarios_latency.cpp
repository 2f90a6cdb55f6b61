// bench/scenarios_latency.cpp: how long an event takes from being sent to being processed, for
// the serial trivial processor at about half of its maximum rate.
//
// The producer is a plain thread and the task runs on a thread of its own, as when events come
// from an I/O thread: at half rate the consumer regularly runs dry and parks, so the figure
// includes waking it. Each payload carries the steady_clock time it was sent, and the processor
// returns the time from then to its own end; the keyed collection hands those back.
#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

namespace bench {

namespace {

struct stamped {
    std::uint64_t index = 0;
    steady::time_point sent;
};

/// The trivial work, plus the event's latency so far (in nanoseconds) as its result.
struct latency_processor {
    std::uint64_t operator()(const stamped& s) const noexcept {
        keep(trivial_work(s.index));
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - s.sent).count());
    }
};

/// Sends one payload from a plain thread: `try_send`, and only when the channel is full, the
/// completion-token form, waited for with a future.
template <class Task>
void send_from_thread(Task& task, std::uint64_t index) {
    const sweet_async::error_code sent = task.try_send(stamped{index, steady::now()});
    if (sent == sa::async_task_error::full) {
        task.async_send(stamped{index, steady::now()}, asio::use_future).get();
    } else if (sent) {
        throw sweet_async::system_error(sent);
    }
}

/// What one run did: its figures and every event's latency, sorted.
struct latency_run {
    run_result figures;
    std::vector<double> latencies_ns;
};

/// Sends `events` payloads from this thread to a serial task on a one-thread pool, each at
/// `start + i * interval` (as fast as possible when `interval` is zero).
latency_run run_paced(std::size_t events, std::chrono::nanoseconds interval) {
    asio::thread_pool consumer(1);
    const auto recipe = make_recipe<stamped>("latency", sa::serial{}, latency_processor{});
    const auto started = steady::now();
    auto task = recipe(consumer.get_executor());
    for (std::uint64_t i = 0; i + 1 < events; ++i) {
        const auto due = started + interval * static_cast<std::int64_t>(i);
        while (steady::now() < due) {
        }
        send_from_thread(task, i);
    }
    task.async_send_final(stamped{events - 1, steady::now()}, asio::use_future).get();
    const auto result = asio::co_spawn(consumer, task.wait(), asio::use_future).get();
    latency_run run{summarise(result, events, seconds_since(started)), {}};
    consumer.join();
    run.latencies_ns.reserve(result.collection().size());
    for (const auto& entry : result.collection())
        run.latencies_ns.push_back(static_cast<double>(entry.value));
    std::sort(run.latencies_ns.begin(), run.latencies_ns.end());
    return run;
}

}  // namespace

std::vector<row> run_latency_group(const settings& s) {
    const std::size_t events = s.pick<std::size_t>(1'000'000, 200'000);
    const std::vector<contestant> flat_out{
        {"serial trivial, thread -> task thread",
         [=] { return run_paced(events, std::chrono::nanoseconds::zero()).figures; }}};
    const auto max = round_robin(flat_out, s.repetitions);
    const double half_rate = max[0].events_per_second() / 2;

    const auto interval = std::chrono::nanoseconds(
        static_cast<std::int64_t>(half_rate > 0 ? 1e9 / half_rate : 1000.0));
    fmt::print(stderr, "  paced at {} events/s (one every {} ns)\n", si(half_rate),
               interval.count());
    const latency_run paced = run_paced(events, interval);
    const measured subject{"paced at half the maximum rate",
                           paced.figures,
                           {paced.figures.events_per_second()},
                           paced.figures.problem};

    row r = compare("latency.serial.trivial.half_rate", subject, max[0], {});
    r.baseline = "max rate, same setup";
    const auto microseconds = [&](double fraction) {
        return quantile(paced.latencies_ns, fraction) / 1e3;
    };
    r.metrics = {{"p50_us", microseconds(0.50)},
                 {"p90_us", microseconds(0.90)},
                 {"p99_us", microseconds(0.99)},
                 {"p999_us", microseconds(0.999)},
                 {"max_us", microseconds(1.0)}};
    r.note = "sent (steady_clock, in the payload) to the end of the processor";
    return {r};
}

}  // namespace bench
