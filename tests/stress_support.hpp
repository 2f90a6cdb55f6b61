// Helpers shared by the randomized stress tests: reproducible randomness, seeds from the
// environment, and a watchdog that turns a hang into a loud failure naming its scenario.
#ifndef SWEET_ASYNC_TESTS_STRESS_SUPPORT_HPP
#define SWEET_ASYNC_TESTS_STRESS_SUPPORT_HPP

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace stress_support {

/// Draws from std::mt19937_64, whose output the standard fixes, through
/// distributions written here: a seed means the same scenario everywhere.
class random_source {
public:
    explicit random_source(std::uint64_t seed) : engine_(seed) {}

    /// Uniform in [0, bound), by rejection so that no value is favoured.
    std::uint64_t below(std::uint64_t bound) {
        constexpr auto max = std::numeric_limits<std::uint64_t>::max();
        const std::uint64_t limit = max - max % bound;
        for (;;) {
            const std::uint64_t x = engine_();
            if (x < limit) return x % bound;
        }
    }
    std::uint64_t between(std::uint64_t low, std::uint64_t high) {
        return low + below(high - low + 1);
    }
    bool chance(unsigned percent) { return below(100) < percent; }
    template <class T>
    T pick(std::initializer_list<T> choices) {
        return *(choices.begin() + below(choices.size()));
    }

private:
    std::mt19937_64 engine_;
};

/// splitmix64: turns consecutive numbers into unrelated seeds.
inline std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

inline std::optional<std::uint64_t> environment_number(const char* name) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return std::nullopt;
    return std::stoull(text, nullptr, 0);
}

/// Aborts the process, naming what it watched, if that does not finish in
/// time: a lost wake-up or an uninterrupted hang fails loudly with its seed
/// instead of stalling the suite.
class watchdog {
public:
    watchdog(std::string what, std::chrono::seconds limit)
        : thread_([this, what = std::move(what), limit] {
              std::unique_lock lock(mutex_);
              if (!done_changed_.wait_for(lock, limit, [this] { return done_; })) {
                  fmt::print(stderr, "[stress] did not finish within {}s, aborting: {}\n",
                             limit.count(), what);
                  std::fflush(stderr);
                  std::abort();
              }
          }) {}
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_changed_.notify_one();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable done_changed_;
    bool done_ = false;
    std::thread thread_;  // last: starts once the members it uses exist
};

/// Calls `run(seed)` for each scenario of a randomized test case: `count`
/// seeds derived from a base seed and `salt` (one per test case), or only
/// the replayed one. The base seed is SWEET_ASYNC_STRESS_SEED or fresh
/// entropy, and is printed; SWEET_ASYNC_STRESS_SCENARIO replays one
/// scenario, SWEET_ASYNC_STRESS_SCENARIOS sets the count.
template <class Run>
void for_each_seed(const std::string& test_name, std::uint64_t salt, std::size_t count, Run&& run) {
    const auto forced_scenario = environment_number("SWEET_ASYNC_STRESS_SCENARIO");
    const auto forced_seed = environment_number("SWEET_ASYNC_STRESS_SEED");
    std::random_device entropy;
    const std::uint64_t base_seed =
        forced_seed ? *forced_seed : (std::uint64_t{entropy()} << 32) ^ entropy();
    if (auto forced_count = environment_number("SWEET_ASYNC_STRESS_SCENARIOS"))
        count = *forced_count;
    if (forced_scenario) count = 1;
    fmt::print("[stress] {}: base seed {:#018x}, {} scenario(s){}\n", test_name, base_seed, count,
               forced_scenario ? fmt::format(" (only {:#018x})", *forced_scenario) : "");
    std::fflush(stdout);
    for (std::size_t i = 0; i < count; ++i)
        run(forced_scenario ? *forced_scenario : mix(base_seed + (salt << 32) + i));
}

}  // namespace stress_support

#endif  // SWEET_ASYNC_TESTS_STRESS_SUPPORT_HPP
