// bench/scenarios_throttle.cpp: the throttle's achieved rate against its setting. A producer
// that never waits for anything but room, a trivial processor, and a token bucket of 20 000
// events/s with a burst of 20: the stream should take (events - burst) / rate seconds, so the
// achieved rate is the setting to within 2 %, neither faster (the bucket leaks) nor slower (its
// timer wakes late and the lateness is lost).
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

namespace bench {

using namespace std::chrono_literals;

namespace {

/// The throttled task: serial, trivial processor, fold collector.
struct throttled {
    sa::throttle rate;
    auto operator()(asio::any_io_executor executor) const {
        return sa::emitting_builder<std::uint64_t>(std::move(executor))
            .name("throttled")
            .throttle(rate)
            .receiver(sa::serial{}, trivial_processor{})
            .collector(sa::fold_collector{std::uint64_t{0}, sum_in_place{}})
            .start_queue();
    }
};

/// A fold's final result has no collection to check: only the accounting.
template <class Result>
run_result summarise_fold(const Result& result, std::size_t events, double seconds) {
    run_result r{.events = result.stats().processed, .seconds = seconds};
    if (result.status() != sa::task_status::completed || !result.stats().balanced() ||
        result.stats().processed != events) {
        r.problem = fmt::format("expected {} events processed, got {} ({})", events,
                                result.status(), result.stats());
    }
    return r;
}

}  // namespace

std::vector<row> run_throttle_group(const settings& s) {
    const sa::throttle rate{.events = 20'000, .per = 1s, .burst = 20};
    const std::size_t events = s.pick<std::size_t>(10'000, 2'000);
    const contestant throttle{
        "serial, throttle(20000/s, burst 20)", [=] {
            asio::io_context io;
            const auto started = steady::now();
            auto task = throttled{rate}(io.get_executor());
            auto future = asio::co_spawn(
                io, produce(task, events, index_payload{}, send_path::try_first), asio::use_future);
            io.run();
            return summarise_fold(future.get(), events, seconds_since(started));
        }};
    const auto m = round_robin(std::span(&throttle, 1), s.repetitions);
    // The burst goes at once; the rest at the rate.
    const double ideal = static_cast<double>(events) / (static_cast<double>(events - rate.burst) /
                                                        static_cast<double>(rate.events));
    return {compare_with_ideal("throttle.rate_20k.burst_20", m[0],
                               "the setting: (events - burst) / rate", ideal, 0.02, goal::within)};
}

}  // namespace bench
