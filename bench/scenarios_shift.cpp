// bench/scenarios_shift.cpp: workloads that change shape midway, from cheap computation to
// 1 ms calls, and the adaptive strategy against every fixed one on the whole stream.
//
// Two kinds of call:
//   * waits: a coroutine processor awaiting a timer (examples/strategy_adaptive_shift.cpp). With
//     a coroutine processor, serial pays a coroutine per event too, so parallel costs about the
//     same as serial on the cheap jobs and loses nowhere: a fixed parallel is hard to beat.
//   * blocking: a synchronous processor calling a blocking client (it sleeps 1 ms), with an
//     offload pool for the calls. Serial runs the cheap jobs without any per-event suspension,
//     parallel pays a hand-off to the pool and back for each; serial blocks on every call in
//     turn. Each fixed strategy loses one phase.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

namespace bench {

using namespace std::chrono_literals;

namespace {

struct job {
    bool slow = false;
    std::uint64_t seed = 0;
};

/// The stream: `cheap` cheap jobs, then slow ones.
struct first_cheap_then_slow {
    std::size_t cheap = 0;
    job operator()(std::size_t i) const { return job{i >= cheap, i}; }
};

/// Cheap jobs compute for about a microsecond; slow ones first wait 1 ms on a timer.
struct waiting_processor {
    std::uint64_t cheap_rounds = 0;
    asio::awaitable<std::uint64_t> operator()(const job& j) const {
        if (j.slow) {
            asio::steady_timer reply(co_await asio::this_coro::executor, 1ms);
            co_await reply.async_wait(asio::use_awaitable);
        }
        co_return churn(j.seed, cheap_rounds);
    }
};

/// Cheap jobs compute for about a microsecond; slow ones first block their thread for 1 ms.
struct blocking_processor {
    std::uint64_t cheap_rounds = 0;
    std::uint64_t operator()(const job& j) const {
        if (j.slow) std::this_thread::sleep_for(1ms);
        return churn(j.seed, cheap_rounds);
    }
};

struct xor_in_place {
    void operator()(std::uint64_t& checksum, std::uint64_t value) const noexcept {
        checksum ^= value;
    }
};

/// The shift task: `processor` under `strategy`, results folded into a checksum.
template <class Strategy, class Processor>
auto shifting(Strategy strategy, Processor processor) {
    return make_recipe<job>("shift", std::move(strategy), std::move(processor),
                            sa::fold_collector{std::uint64_t{0}, xor_in_place{}});
}

constexpr sa::min_max<std::size_t> workers{1, 32};

/// As in examples/strategy_adaptive_shift.cpp: windows of 50, re-checked every 10 windows.
sa::adaptive adaptive_for_shift(asio::any_io_executor offload = {}) {
    return sa::adaptive{
        .sample_size = 50, .workers = workers, .recheck_every = 10, .offload = std::move(offload)};
}

row shift_row(std::string name, const std::vector<measured>& m, std::size_t cheap,
              std::size_t slow) {
    const measured* const fixed[] = {&m[0], &m[1]};
    row r = compare_with_best_fixed(std::move(name), m[2], fixed, 1.0, goal::above);
    r.metrics.push_back({"cheap_events", static_cast<double>(cheap)});
    r.metrics.push_back({"slow_events", static_cast<double>(slow)});
    return r;
}

row measure_waits(const settings& s, std::uint64_t cheap_rounds) {
    const std::size_t cheap = s.pick<std::size_t>(30'000, 10'000);
    const std::size_t slow = s.pick<std::size_t>(1'000, 200);
    const waiting_processor processor{cheap_rounds};
    const first_cheap_then_slow make{cheap};
    const std::size_t events = cheap + slow;
    const std::vector<contestant> contestants{
        on_one_thread("serial", shifting(sa::serial{}, processor), events, make),
        on_one_thread("parallel{1, 32}", shifting(sa::parallel{.workers = workers}, processor),
                      events, make),
        on_one_thread("adaptive{50, 1..32, recheck 10}", shifting(adaptive_for_shift(), processor),
                      events, make),
    };
    return shift_row("adaptive.shift.waits", round_robin(contestants, s.repetitions), cheap, slow);
}

row measure_blocking(const settings& s, std::uint64_t cheap_rounds) {
    // Sized so that each fixed strategy loses a second or two on its bad phase: parallel a few
    // microseconds per cheap job, serial about 1 ms per slow job.
    const std::size_t cheap = s.pick<std::size_t>(500'000, 100'000);
    const std::size_t slow = s.pick<std::size_t>(2'000, 200);
    const blocking_processor processor{cheap_rounds};
    const first_cheap_then_slow make{cheap};
    const std::size_t events = cheap + slow;
    const std::size_t offload_threads = workers.max;  // a blocked call holds its thread
    const auto serial = [=](asio::any_io_executor executor, asio::any_io_executor) {
        return shifting(sa::serial{}, processor)(std::move(executor));
    };
    const auto parallel = [=](asio::any_io_executor executor, asio::any_io_executor offload) {
        return shifting(sa::parallel{.workers = workers, .offload = std::move(offload)},
                        processor)(std::move(executor));
    };
    const auto adaptive = [=](asio::any_io_executor executor, asio::any_io_executor offload) {
        return shifting(adaptive_for_shift(std::move(offload)), processor)(std::move(executor));
    };
    const std::vector<contestant> contestants{
        with_offload("serial", offload_threads, serial, events, make),
        with_offload("parallel{1, 32} + offload", offload_threads, parallel, events, make),
        with_offload("adaptive{50, 1..32, recheck 10} + offload", offload_threads, adaptive, events,
                     make),
    };
    return shift_row("adaptive.shift.blocking", round_robin(contestants, s.repetitions), cheap,
                     slow);
}

}  // namespace

std::vector<row> run_shift_group(const settings& s) {
    const std::uint64_t cheap_rounds = calibration{s.rounds_per_microsecond}.rounds_for(1us);
    return {measure_waits(s, cheap_rounds), measure_blocking(s, cheap_rounds)};
}

}  // namespace bench
