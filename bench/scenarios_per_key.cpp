// bench/scenarios_per_key.cpp: per-key ordering against unordered `parallel` and
// `parallel{.ordered = true}` on the same CPU-bound work (~5 us per event on a 2-thread pool),
// with 1, 16 and 10 000 keys. One key is serial by definition; with enough keys, per-key
// ordering should cost little next to unordered parallel.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

namespace bench {

using namespace std::chrono_literals;

namespace {

/// The key of an event: its index modulo the number of keys, so keys arrive interleaved.
struct key_modulo {
    std::uint64_t keys = 1;
    std::uint64_t operator()(const std::uint64_t& index) const noexcept { return index % keys; }
};

}  // namespace

std::vector<row> run_per_key_group(const settings& s) {
    const cpu_work work{calibration{s.rounds_per_microsecond}.rounds_for(5us)};
    const std::size_t events = s.pick<std::size_t>(100'000, 20'000);
    const sa::min_max<std::size_t> workers{1, 16};
    auto per_key = [&](std::uint64_t keys) {
        return on_pool(fmt::format("per_key, {} keys", keys), 2,
                       make_recipe<std::uint64_t>(
                           "per-key", sa::per_key(key_modulo{keys}, {.workers = workers}), work),
                       events);
    };
    const std::vector<contestant> contestants{
        on_pool("parallel{1, 16}", 2,
                make_recipe<std::uint64_t>("cpu", sa::parallel{.workers = workers}, work), events),
        on_pool("parallel{1, 16}, ordered", 2,
                make_recipe<std::uint64_t>("cpu-ordered",
                                           sa::parallel{.workers = workers, .ordered = true}, work),
                events),
        per_key(1),
        per_key(16),
        per_key(10'000),
    };
    const auto m = round_robin(contestants, s.repetitions);
    return {
        compare("parallel.ordered.cpu_5us.pool2", m[1], m[0], std::nullopt),
        compare("per_key.cpu_5us.keys_1", m[2], m[0], std::nullopt),
        compare("per_key.cpu_5us.keys_16", m[3], m[0], 0.8),
        compare("per_key.cpu_5us.keys_10000", m[4], m[0], 0.8),
    };
}

}  // namespace bench
