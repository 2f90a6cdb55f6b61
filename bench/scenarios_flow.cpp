// bench/scenarios_flow.cpp: the cost of a hop between linked stages, and the memory of a flow
// whose last stage is slow.
//
// A hop is one stage forwarding its result into the next stage's channel: the same trivial
// work through one stage and through three linked stages, on one thread, gives the cost of two
// hops per event. The memory of a flow is measured like the memory group's, in child processes
// (this executable with `--memory-child flow-slow EVENTS`), since peak RSS only ever grows.
#include <sweet_async/sweet_async.hpp>

#include <cstddef>
#include <cstdint>
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

namespace bench {

namespace {

/// The slow last stage's processor: a thousand rounds of churn, about a microsecond, many
/// times the cost of the stages before it.
struct slow_processor {
    std::uint64_t operator()(const std::uint64_t& x) const noexcept { return churn(x, 1000); }
};

/// A task of `stages` serial stages on `io`, the first `stages - 1` forwarding to the next,
/// the last folding: `events` events go through, the last stage's processor `Last`.
template <class Last>
run_result run_linked(std::size_t stages, std::size_t events, std::size_t capacity) {
    asio::io_context io;
    const auto started = steady::now();
    auto last = sa::emitting_builder<std::uint64_t>(io)
                    .name("last")
                    .capacity(capacity)
                    .receiver(sa::serial{}, Last{})
                    .collector(sa::fold_collector{std::uint64_t{0}, sum_in_place{}})
                    .start_queue();
    using link_task = sa::emitting_task<std::uint64_t, sa::link_report>;
    std::vector<link_task> links;  // from the last link to the first stage
    sa::sender<std::uint64_t> next = last.get_sender();
    for (std::size_t i = 1; i < stages; ++i) {
        links.push_back(sa::emitting_builder<std::uint64_t>(io)
                            .name(fmt::format("stage-{}", stages - i))
                            .capacity(capacity)
                            .receiver(sa::serial{}, trivial_processor{})
                            .collector(sa::forward_to(next))
                            .start_queue());
        next = links.back().get_sender();
    }
    using last_task = decltype(last);
    auto flow = [](sa::sender<std::uint64_t> first, std::size_t n,
                   last_task end) -> asio::awaitable<typename last_task::result_type> {
        for (std::uint64_t i = 0; i + 1 < n; ++i) {
            const sweet_async::error_code sent = first.try_send(i);
            if (!sent) continue;
            if (sent != sa::async_task_error::full) throw sweet_async::system_error(sent);
            co_await first.send(i);
        }
        co_await first.send_final(n - 1);
        co_return co_await end.wait();
    };
    auto future = asio::co_spawn(io, flow(next, events, last), asio::use_future);
    io.run();
    const auto result = future.get();
    run_result r{.events = result.stats().processed, .seconds = seconds_since(started)};
    if (result.status() != sa::task_status::completed || !result.stats().balanced() ||
        result.stats().processed != events || !result.final_event()) {
        r.problem = fmt::format("expected {} events through {} stages, the last one final: got {}",
                                events, stages, result);
    }
    return r;
}

}  // namespace

run_result run_slow_flow(std::size_t events) {
    return run_linked<slow_processor>(3, events, 100);
}

std::vector<row> run_flow_group(const settings& s) {
    const std::size_t events = s.pick<std::size_t>(2'000'000, 500'000);
    const std::vector<contestant> contestants{
        {"one stage", [=] { return run_linked<trivial_processor>(1, events, 100); }},
        {"three linked stages", [=] { return run_linked<trivial_processor>(3, events, 100); }},
    };
    const auto m = round_robin(contestants, s.repetitions);
    row hops = compare("flow.three_stages.trivial", m[1], m[0], 0.5);
    if (m[0].events_per_second() > 0 && m[1].events_per_second() > 0) {
        const double per_event_one = 1e9 / m[0].events_per_second();
        const double per_event_three = 1e9 / m[1].events_per_second();
        hops.metrics.push_back({"ns_per_hop", (per_event_three - per_event_one) / 2});
        hops.note = "ns_per_hop = (ns per event through 3 stages - through 1) / 2 hops";
    }

    const std::size_t small = s.pick<std::size_t>(500'000, 100'000);
    const std::size_t large = small * 10;
    fmt::print(stderr, "  child processes: slow-last flow {}, {}\n", small, large);
    const child_figures slow_small = run_memory_child(s, "flow-slow", small);
    const child_figures slow_large = run_memory_child(s, "flow-slow", large);
    const auto label = [](std::size_t n) {
        return fmt::format("3 stages, slow last, {} events", si(static_cast<double>(n)));
    };
    row memory = rss_row("flow.slow_last.rss_10x_events", label(large), slow_large,
                         as_measured(label(small), slow_small), slow_small, 1.10);
    memory.note = "peak RSS with 10x the events through a flow whose last stage is the slowest";
    return {hops, memory};
}

}  // namespace bench
