// Randomized per_key scenarios: keys, workers, lanes, processors, failures with and without
// stop_key_on_failure, retries after a backoff, 8 producer threads and a cancel at any moment.
// For every key, its events start in arrival order and never overlap; never more than
// workers.max run at once; every event ends exactly once. Seeds and replay as in
// test_stress.cpp.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "stress_support.hpp"
#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

struct per_key_scenario {
    std::uint64_t seed = 0;
    std::size_t keys = 1;
    sa::per_key_options options;
    bool coroutine = false;
    std::size_t pool_threads = 1;
    std::size_t capacity = 1;
    std::size_t producers = 8;
    std::uint64_t events_per_producer = 0;
    unsigned fail_percent = 0;
    unsigned retry = 0;
    std::optional<sa::cancellation_level> cancel;
    std::uint64_t cancel_after = 0;  // accepted sends
};

per_key_scenario make_per_key_scenario(std::uint64_t seed) {
    stress_support::random_source r(seed);
    per_key_scenario s;
    s.seed = seed;
    s.keys = r.pick<std::size_t>({1, 2, 3, 16, 100, 10'000});
    s.options.workers.min = 1;
    s.options.workers.max = r.between(1, 12);
    s.options.backlog = r.between(1, 64);
    s.options.backlog_per_key = r.between(1, 16);
    s.options.stop_key_on_failure = r.chance(30);
    s.coroutine = r.chance(50);
    s.pool_threads = r.between(1, 4);
    s.capacity = r.between(1, 32);
    s.events_per_producer = r.between(20, test_support::sanitized ? 80 : 300);
    s.fail_percent = r.pick({0u, 0u, 5u, 20u});
    s.retry = static_cast<unsigned>(r.below(2));
    if (r.chance(40)) {
        s.cancel =
            r.chance(50) ? sa::cancellation_level::graceful : sa::cancellation_level::immediate;
        s.cancel_after = r.below(s.producers * s.events_per_producer);
    }
    return s;
}

std::string describe(const per_key_scenario& s) {
    return fmt::format(
        "per_key scenario {:#018x}: {} keys, per_key(workers=1..{}, backlog={}, per key {}{}), "
        "{} processor, thread_pool({}), capacity {}, {} producers x {} events, fails {}%, "
        "retry {}{}",
        s.seed, s.keys, s.options.workers.max, s.options.backlog, s.options.backlog_per_key,
        s.options.stop_key_on_failure ? ", stop_key_on_failure" : "",
        s.coroutine ? "coroutine" : "sync", s.pool_threads, s.capacity, s.producers,
        s.events_per_producer, s.fail_percent, s.retry,
        s.cancel ? fmt::format(", cancel({}) after {} sends", *s.cancel, s.cancel_after) : "");
}

struct keyed_payload {
    std::uint64_t key = 0;
    std::uint64_t n = 0;  // unique over the scenario
};

/// What the processors saw, under one mutex: per key, the arrival indices of the events that
/// started (first attempts) and the event that holds the key (from its first attempt to its
/// last), the most in flight at once, and what was wrong.
struct key_record {
    std::mutex mutex;
    std::map<std::uint64_t, std::vector<std::uint64_t>> started;  // key -> sequences
    std::map<std::uint64_t, std::uint64_t> holder;                // key -> sequence
    std::map<std::uint64_t, unsigned> attempts;                   // sequence -> attempts made
    std::set<std::uint64_t> stopped_keys;                         // stop_key_on_failure
    std::vector<std::string> wrong;
    std::size_t now = 0;
    std::size_t most = 0;
};

/// Whether `n` fails (a pure function: its retries fail too).
bool fails(std::uint64_t n, unsigned percent) {
    return percent != 0 && stress_support::mix(n) % 100 < percent;
}

std::vector<std::string> run_per_key(const per_key_scenario& s) {
    key_record seen;
    asio::thread_pool pool(s.pool_threads);
    // An attempt begins: the key must be free or held by this event (a retry); a stopped key
    // must not run anything.
    auto enter = [&](const sa::event_view<keyed_payload>& e) {
        std::lock_guard lock(seen.mutex);
        const auto key = e.payload().key;
        const auto sequence = e.inner().sequence();
        if (seen.attempts[sequence]++ == 0) seen.started[key].push_back(sequence);
        const auto [held, fresh] = seen.holder.emplace(key, sequence);
        if (!fresh && held->second != sequence) {
            seen.wrong.push_back(fmt::format("key {} ran #{} while #{} was unfinished", key,
                                             sequence, held->second));
        }
        if (seen.stopped_keys.contains(key))
            seen.wrong.push_back(fmt::format("stopped key {} ran #{}", key, sequence));
        seen.most = std::max(seen.most, ++seen.now);
    };
    // An attempt ends; `fails_now`: by a throw. The event lets its key go once it ends for good.
    auto leave = [&](const sa::event_view<keyed_payload>& e, bool fails_now) {
        std::lock_guard lock(seen.mutex);
        --seen.now;
        const auto sequence = e.inner().sequence();
        const bool last = !fails_now || seen.attempts[sequence] > s.retry;
        if (!last) return;
        seen.holder.erase(e.payload().key);
        if (fails_now && s.options.stop_key_on_failure) seen.stopped_keys.insert(e.payload().key);
    };
    auto sync = [&](sa::event_view<keyed_payload> e) -> std::uint64_t {
        enter(e);
        const bool failing = fails(e.payload().n, s.fail_percent);
        leave(e, failing);
        if (failing) throw std::runtime_error("planned failure");
        return e.payload().n;
    };
    auto coroutine = [&](sa::event_view<keyed_payload> e) -> asio::awaitable<std::uint64_t> {
        enter(e);
        try {
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        } catch (...) {  // interrupted by cancel(immediate): the event ends cancelled
            std::lock_guard lock(seen.mutex);
            --seen.now;
            seen.holder.erase(e.payload().key);
            throw;
        }
        const bool failing = fails(e.payload().n, s.fail_percent);
        leave(e, failing);
        if (failing) throw std::runtime_error("planned failure");
        co_return e.payload().n;
    };

    auto builder = sa::emitting_builder<keyed_payload>(pool)
                       .name("per-key-stress")
                       .capacity(s.capacity)
                       .retry(s.retry, sa::backoff{100us});
    const auto strategy = sa::per_key([](const keyed_payload& p) { return p.key; }, s.options);
    std::optional<sa::sender<keyed_payload>> sender;
    std::function<void(sa::cancellation_level)> cancel;
    std::function<sa::task_stats()> wait;
    auto adopt = [&](auto task) {
        sender = task.get_sender();
        cancel = [task](sa::cancellation_level level) mutable { task.cancel(level); };
        wait = [task]() mutable {
            auto r = task.async_wait(asio::use_future).get();
            test_support::check_accounting(r);
            return r.stats();
        };
    };
    if (s.coroutine) {
        adopt(builder.receiver(strategy, coroutine).start_queue());
    } else {
        adopt(builder.receiver(strategy, sync).start_queue());
    }

    std::atomic<std::uint64_t> accepted{0};
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < s.producers; ++p) {
        producers.emplace_back([&, p] {
            for (std::uint64_t i = 0; i < s.events_per_producer; ++i) {
                const std::uint64_t n = p * s.events_per_producer + i;
                const keyed_payload value{stress_support::mix(n) % s.keys, n};
                try {
                    sender->async_send(value, asio::use_future).get();
                } catch (const sweet_async::system_error&) {
                    return;  // closed by the cancel
                }
                if (s.cancel && accepted.fetch_add(1) == s.cancel_after) cancel(*s.cancel);
            }
        });
    }
    for (auto& t : producers)
        t.join();
    sender->close();
    const sa::task_stats stats = wait();

    std::vector<std::string> wrong = seen.wrong;
    auto expect = [&](bool ok, std::string what) {
        if (!ok) wrong.push_back(std::move(what));
    };
    expect(stats.balanced(), fmt::format("unbalanced: {}", stats));
    expect(seen.most <= s.options.workers.max,
           fmt::format("{} in flight, workers.max {}", seen.most, s.options.workers.max));
    for (const auto& [key, sequences] : seen.started) {
        expect(std::is_sorted(sequences.begin(), sequences.end()),
               fmt::format("key {} started out of arrival order: {}", key,
                           fmt::join(sequences, ", ")));
    }
    if (!s.cancel && !s.options.stop_key_on_failure) {
        expect(stats.sent == s.producers * s.events_per_producer, "events refused");
        expect(stats.cancelled == 0, "events cancelled without a cancel");
    }
    return wrong;
}

}  // namespace

TEST_CASE("stress: randomized per_key scenarios keep every key's order and account for every "
          "event",
          "[stress][per_key]") {
    const std::string test_name = Catch::getResultCapture().getCurrentTestName();
    stress_support::for_each_seed(
        test_name, 0x51, test_support::sanitized ? 12 : 40, [&](std::uint64_t seed) {
            const per_key_scenario s = make_per_key_scenario(seed);
            INFO(describe(s));
            INFO(
                fmt::format("replay: SWEET_ASYNC_STRESS_SCENARIO={:#018x} sweet_async_tests \"{}\"",
                            seed, test_name));
            stress_support::watchdog guard(describe(s), std::chrono::seconds(120));
            const auto wrong = run_per_key(s);
            INFO(fmt::format("{}", fmt::join(wrong, "\n")));
            CHECK(wrong.empty());
        });
}
