// bench/scenarios_strategies.cpp: the workloads each strategy is for (CPU-bound work on a pool,
// waits on a timer, a sink with a per-call cost), and the adaptive strategy on each of them
// against the best fixed strategy of the same run.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

namespace bench {

using namespace std::chrono_literals;

// ----- CPU-bound: ~5 us of computation per event on a 2-thread pool -----------------------------

std::vector<row> run_cpu_group(const settings& s) {
    const cpu_work work{calibration{s.rounds_per_microsecond}.rounds_for(5us)};
    const std::size_t events = s.pick<std::size_t>(100'000, 20'000);
    // Enough in flight that a pool thread finishing an event finds the next one dispatched
    // already, rather than waiting for the consumer to be scheduled; adaptive gets the same
    // bounds.
    const sa::min_max<std::size_t> workers{1, 16};
    const std::vector<contestant> contestants{
        on_pool("serial", 2, make_recipe<std::uint64_t>("cpu", sa::serial{}, work), events),
        on_pool(fmt::format("parallel{{{}, {}}}", workers.min, workers.max), 2,
                make_recipe<std::uint64_t>("cpu", sa::parallel{.workers = workers}, work), events),
        on_pool("adaptive", 2,
                make_recipe<std::uint64_t>("cpu", sa::adaptive{.workers = workers}, work), events),
    };
    const auto m = round_robin(contestants, s.repetitions);
    const measured* const fixed[] = {&m[0], &m[1]};
    row parallel = compare("parallel.cpu_5us.pool2", m[1], m[0], 1.8);
    parallel.metrics.push_back({"churn_rounds_per_event", static_cast<double>(work.rounds)});
    return {parallel, compare_with_best_fixed("adaptive.cpu_5us.pool2", m[2], fixed, 0.9)};
}

// ----- waiting: a coroutine processor that waits 1 ms on a timer ---------------------------------

namespace {

/// Stands for a remote call: no CPU while it waits, so one thread keeps many in flight.
asio::awaitable<std::uint64_t> wait_one_millisecond(const std::uint64_t& request) {
    asio::steady_timer reply(co_await asio::this_coro::executor, 1ms);
    co_await reply.async_wait(asio::use_awaitable);
    co_return request;
}

}  // namespace

std::vector<row> run_timer_group(const settings& s) {
    constexpr std::size_t in_flight = 64;
    const std::size_t events = s.pick<std::size_t>(128'000, 12'800);
    const sa::min_max<std::size_t> workers{1, in_flight};
    const std::vector<contestant> contestants{
        on_one_thread("parallel{1, 64}",
                      make_recipe<std::uint64_t>("timer", sa::parallel{.workers = workers},
                                                 wait_one_millisecond),
                      events),
        on_one_thread("adaptive",
                      make_recipe<std::uint64_t>("timer", sa::adaptive{.workers = workers},
                                                 wait_one_millisecond),
                      events),
    };
    const auto m = round_robin(contestants, s.repetitions);
    const measured* const fixed[] = {&m[0]};
    const double ideal = static_cast<double>(in_flight) / 1e-3;  // 64 in flight / 1 ms
    return {
        compare_with_ideal("parallel.timer_1ms.64", m[0], "ideal: 64 in flight / 1 ms", ideal,
                           0.93),
        compare_with_best_fixed("adaptive.timer_1ms", m[1], fixed, 0.9),
    };
}

// ----- a sink: 20 us per call + 0.1 us per item --------------------------------------------------

namespace {

/// The per-batch processor: one sink call per batch.
struct sink_processor {
    sink_cost_model model;
    std::vector<std::uint64_t> operator()(std::span<const std::uint64_t> items) const {
        return model.insert(items);
    }
};

}  // namespace

std::vector<row> run_sink_group(const settings& s) {
    constexpr std::size_t batch_size = 100;
    const sink_processor sink{};
    const std::size_t batched_events = s.pick<std::size_t>(2'000'000, 200'000);
    // Serial pays the whole per-call cost for every event: ~50 times slower, so fewer events.
    const std::size_t serial_events = s.pick<std::size_t>(20'000, 2'000);
    const std::vector<contestant> contestants{
        on_one_thread(
            "batched{100}",
            make_recipe<std::uint64_t>("sink", sa::batched{.batch_size = batch_size}, sink),
            batched_events),
        on_one_thread("serial (batches of one)",
                      make_recipe<std::uint64_t>("sink", sa::serial{}, sink), serial_events),
        on_one_thread("adaptive", make_recipe<std::uint64_t>("sink", sa::adaptive{}, sink),
                      batched_events),
    };
    const auto m = round_robin(contestants, s.repetitions);
    const measured* const fixed[] = {&m[0], &m[1]};
    const double ideal = sink.model.ideal_events_per_second(batched_events, batch_size);
    return {
        compare_with_ideal("batched.sink.100", m[0], "ideal: 20us/call + 0.1us/item", ideal, 0.7),
        compare("batched.sink.100.vs_serial", m[0], m[1], 10.0),
        compare_with_best_fixed("adaptive.sink", m[2], fixed, 0.9),
    };
}

}  // namespace bench
