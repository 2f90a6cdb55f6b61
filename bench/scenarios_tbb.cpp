// bench/scenarios_tbb.cpp: oneTBB's flow graph as a peer, on the same work, in the same process,
// alternated with ours. Built only when CMake finds oneTBB (SWEET_ASYNC_BENCH_TBB); the library
// never depends on it.
//
// What a TBB user writes for each of our configurations:
//   ours                                    oneTBB
//   serial, one thread                      function_node<serial> in a 1-thread arena
//   serial on thread_pool(2)                function_node<serial> in a 2-thread arena
//   parallel{1, 16} on thread_pool(2)       function_node<unlimited> -> function_node<serial>
//                                           (the collector) in a 2-thread arena
// Results are kept as ours are: a sum (fold) or one entry per event in a hash map keyed by the
// event's index (keyed; ours keys by the event's uuid). The producer is the arena's own thread,
// calling try_put for every event, then wait_for_all.
#include <sweet_async/sweet_async.hpp>

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

namespace bench {

namespace {

namespace flow = oneapi::tbb::flow;

/// Where a TBB graph's results go: a sum, or a hash map from the event's index to its result.
enum class keep_results { fold, keyed };

/// Checks that every event reached the collector, the way `summarise` checks our tasks.
run_result tbb_result(std::size_t events, std::size_t collected, double seconds) {
    run_result r{.events = collected, .seconds = seconds};
    if (collected != events) {
        r.problem = fmt::format("expected {} results, collected {}", events, collected);
    }
    return r;
}

/// `function_node<serial>` running `work` and keeping its result, in an arena of `threads`.
template <class Work>
run_result run_tbb_serial(std::size_t events, int threads, Work work, keep_results keep_as) {
    oneapi::tbb::task_arena arena(threads);
    std::uint64_t sum = 0;
    std::unordered_map<std::uint64_t, std::uint64_t> results;
    const auto started = steady::now();
    arena.execute([&] {
        flow::graph g;
        flow::function_node<std::uint64_t, flow::continue_msg> node(
            g, flow::serial, [&](std::uint64_t x) {
                const std::uint64_t r = work(x);
                if (keep_as == keep_results::fold) {
                    sum += r;
                } else {
                    results.emplace(x, r);
                }
                return flow::continue_msg{};
            });
        for (std::uint64_t i = 0; i < events; ++i)
            node.try_put(i);
        g.wait_for_all();
    });
    const double seconds = seconds_since(started);
    keep(sum);
    return tbb_result(events, keep_as == keep_results::fold ? events : results.size(), seconds);
}

/// `function_node<unlimited>` running `work`, into a `function_node<serial>` that keeps the
/// results (by index), in an arena of `threads`.
template <class Work>
run_result run_tbb_unlimited(std::size_t events, int threads, Work work) {
    struct indexed {
        std::uint64_t index;
        std::uint64_t value;
    };
    oneapi::tbb::task_arena arena(threads);
    std::unordered_map<std::uint64_t, std::uint64_t> results;
    const auto started = steady::now();
    arena.execute([&] {
        flow::graph g;
        flow::function_node<std::uint64_t, indexed> process(g, flow::unlimited,
                                                            [&](std::uint64_t x) {
                                                                return indexed{x, work(x)};
                                                            });
        flow::function_node<indexed, flow::continue_msg> collect(
            g, flow::serial, [&](const indexed& r) {
                results.emplace(r.index, r.value);
                return flow::continue_msg{};
            });
        flow::make_edge(process, collect);
        for (std::uint64_t i = 0; i < events; ++i)
            process.try_put(i);
        g.wait_for_all();
    });
    return tbb_result(events, results.size(), seconds_since(started));
}

}  // namespace

std::vector<row> run_tbb_group(const settings& s) {
    const std::size_t trivial_events = s.pick<std::size_t>(1'000'000, 200'000);
    const std::size_t cpu_events = s.pick<std::size_t>(100'000, 20'000);
    const cpu_work work{
        calibration{s.rounds_per_microsecond}.rounds_for(std::chrono::microseconds(5))};
    const sa::min_max<std::size_t> workers{1, 16};
    const trivial_processor trivial{};
    const std::vector<contestant> contestants{
        on_one_thread("serial fold", trivial_fold(sa::serial{}), trivial_events),
        {"tbb serial fold, 1 thread",
         [=] { return run_tbb_serial(trivial_events, 1, trivial, keep_results::fold); }},
        on_one_thread("serial keyed", trivial_keyed(sa::serial{}), trivial_events),
        {"tbb serial keyed, 1 thread",
         [=] { return run_tbb_serial(trivial_events, 1, trivial, keep_results::keyed); }},
        on_pool("parallel{1, 16} keyed, pool 2", 2, trivial_keyed(sa::parallel{.workers = workers}),
                trivial_events),
        {"tbb unlimited keyed, 2 threads",
         [=] { return run_tbb_unlimited(trivial_events, 2, trivial); }},
        on_pool("parallel{1, 16} 5us, pool 2", 2,
                make_recipe<std::uint64_t>("cpu", sa::parallel{.workers = workers}, work),
                cpu_events),
        {"tbb unlimited 5us, 2 threads", [=] { return run_tbb_unlimited(cpu_events, 2, work); }},
        on_pool("serial 5us, pool 2", 2, make_recipe<std::uint64_t>("cpu", sa::serial{}, work),
                cpu_events),
        {"tbb serial 5us, 2 threads",
         [=] { return run_tbb_serial(cpu_events, 2, work, keep_results::keyed); }},
    };
    const auto m = round_robin(contestants, s.repetitions);
    return {
        compare("tbb.serial.trivial.fold", m[0], m[1], 3.0),
        compare("tbb.serial.trivial.keyed", m[2], m[3], {}),
        compare("tbb.parallel.trivial.pool2", m[4], m[5], 0.8),
        compare("tbb.parallel.cpu_5us.pool2", m[6], m[7], 0.97),
        compare("tbb.serial.cpu_5us.pool2", m[8], m[9], 0.97),
    };
}

}  // namespace bench
