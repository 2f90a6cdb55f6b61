// The per_key strategy: in arrival order within a key, concurrently across keys, bounded lanes,
// keys that take turns, stop_key_on_failure, and every event accounted for.
#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::check_accounting;
using test_support::run;
using test_support::valve;

namespace {

/// An event of the tests: its key and its position among its key's events.
struct keyed {
    int key = 0;
    int index = 0;
};

/// What the processors saw: per key, the indices in the order they started, and whether two
/// events of one key ever overlapped; over all keys, the most in flight at once.
struct observer {
    std::mutex mutex;
    std::map<int, std::vector<int>> started;
    std::map<int, int> active;
    bool overlapped = false;
    int now = 0;
    int most = 0;

    void enter(const keyed& k) {
        std::lock_guard lock(mutex);
        started[k.key].push_back(k.index);
        if (++active[k.key] > 1) overlapped = true;
        most = std::max(most, ++now);
    }
    void leave(const keyed& k) {
        std::lock_guard lock(mutex);
        --active[k.key];
        --now;
    }

    /// True when every key's events started in index order 0, 1, 2, ...
    bool in_order() {
        std::lock_guard lock(mutex);
        for (const auto& [key, indices] : started) {
            for (std::size_t i = 0; i < indices.size(); ++i)
                if (indices[i] != static_cast<int>(i)) return false;
        }
        return true;
    }
};

auto key_of = [](const keyed& k) { return k.key; };

/// A coroutine stand-in for a processor that waits (on a service, a disk) `(index % 3) * 100us`.
asio::awaitable<int> wait_a_little(observer& seen, keyed k) {
    seen.enter(k);
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             std::chrono::microseconds((k.index % 3) * 100));
    co_await timer.async_wait(asio::use_awaitable);
    seen.leave(k);
    co_return k.index;
}

}  // namespace

TEST_CASE("per_key: each key's events in arrival order, keys concurrently, at most workers.max",
          "[per_key]") {
    asio::io_context io;
    observer seen;
    auto task = sa::emitting_builder<keyed>(io)
                    .name("accounts")
                    .capacity(16)
                    .receiver(sa::per_key(key_of, {.workers = {1, 6}}),
                              [&seen](keyed k) { return wait_a_little(seen, k); })
                    .start_queue();
    constexpr int keys = 10;
    constexpr int per_key = 40;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < per_key; ++i)
            for (int k = 0; k < keys; ++k)
                co_await task.send(keyed{k, i});
        task.close();
    });
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == keys * per_key);
    check_accounting(result);
    CHECK(seen.in_order());
    CHECK_FALSE(seen.overlapped);
    CHECK(seen.most > 1);
    CHECK(seen.most <= 6);
    CHECK(fmt::format("{}", result.strategy_report().current) ==
          "per_key(workers=1..6, backlog=1024, backlog_per_key=64)");
}

TEST_CASE("per_key: synchronous processors on a thread pool keep each key's order",
          "[per_key][threads]") {
    asio::thread_pool pool(2);
    observer seen;
    auto task = sa::emitting_builder<keyed>(pool)
                    .receiver(sa::per_key(key_of, {.workers = {1, 4}, .backlog_per_key = 3}),
                              [&seen](const keyed& k) {
                                  seen.enter(k);
                                  volatile int spin = 0;  // a little work, so runs overlap
                                  for (int i = 0; i < 2000; ++i)
                                      spin = spin + i;
                                  seen.leave(k);
                                  return k.index;
                              })
                    .start_queue();
    constexpr int keys = 5;
    constexpr int per_key = 200;
    for (int i = 0; i < per_key; ++i)
        for (int k = 0; k < keys; ++k)
            task.async_send(keyed{k, i}, asio::use_future).get();
    task.close();
    auto result = task.async_wait(asio::use_future).get();
    CHECK(result.stats().processed == keys * per_key);
    check_accounting(result);
    CHECK(seen.in_order());
    CHECK_FALSE(seen.overlapped);
}

TEST_CASE("per_key: a held key's backlog waits in its lane, not in front of other keys",
          "[per_key][backpressure]") {
    asio::io_context io;
    valve hot(io);
    std::vector<int> done;  // keys of the events that completed, in order
    auto task = sa::emitting_builder<keyed>(io)
                    .capacity(64)
                    .receiver(sa::per_key(key_of, {.workers = {1, 4}, .backlog_per_key = 4}),
                              [&](keyed k) -> asio::awaitable<int> {
                                  if (k.key == 0) co_await hot.pass();
                                  done.push_back(k.key);
                                  co_return k.index;
                              })
                    .start_queue();
    // Key 0: one held in flight, four waiting in its lane (full). Then 20 events of other keys.
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i)
            co_await task.send(keyed{0, i});
        for (int i = 0; i < 20; ++i)
            co_await task.send(keyed{1 + i % 4, i / 4});
    });
    io.poll();
    CHECK(done.size() == 20);  // every other key's event, while key 0 is held
    CHECK(std::count(done.begin(), done.end(), 0) == 0);

    // A sixth event of key 0 cannot wait in its full lane: receiving stops at it, and the
    // events behind it wait in the channel (backpressure) until key 0 moves.
    run(io, [&]() -> asio::awaitable<void> {
        co_await task.send(keyed{0, 5});
        co_await task.send(keyed{1, 5});
    });
    io.poll();
    CHECK(done.size() == 20);
    CHECK(task.stats().sent == 27);
    hot.open();
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 27);
    check_accounting(result);
    CHECK(std::count(done.begin(), done.end(), 0) == 6);
}

TEST_CASE("per_key: a hot key gets one worker and does not starve the other keys",
          "[per_key][fairness]") {
    asio::io_context io;
    std::size_t hot_done = 0;
    std::size_t hot_done_when_others_finished = 0;
    std::size_t others_done = 0;
    constexpr std::size_t others = 60;
    auto task =
        sa::emitting_builder<keyed>(io)
            .capacity(2000)
            .receiver(
                sa::per_key(key_of, {.workers = {1, 4}, .backlog = 4096, .backlog_per_key = 2000}),
                [&](keyed k) -> asio::awaitable<int> {
                    asio::steady_timer t(co_await asio::this_coro::executor, 200us);
                    co_await t.async_wait(asio::use_awaitable);
                    if (k.key == 0) {
                        ++hot_done;
                    } else if (++others_done == others) {
                        hot_done_when_others_finished = hot_done;
                    }
                    co_return k.index;
                })
            .start_queue();
    // The hot key's 1000 events arrive first; 3 other keys' 20 each after them.
    for (int i = 0; i < 1000; ++i)
        REQUIRE_FALSE(task.try_send(keyed{0, i}));
    for (int i = 0; i < 20; ++i)
        for (int k = 1; k <= 3; ++k)
            REQUIRE_FALSE(task.try_send(keyed{k, i}));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 1060);
    // The others ran alongside the hot key (one event at a time each): they finished while
    // it had done about 20 of its 1000, nowhere near all of them.
    CHECK(hot_done_when_others_finished < 200);
}

TEST_CASE("per_key: a failure does not hold its key back, unless stop_key_on_failure",
          "[per_key][failure]") {
    for (const bool stop : {false, true}) {
        INFO("stop_key_on_failure = " << stop);
        asio::io_context io;
        std::vector<keyed> processed;
        auto task =
            sa::emitting_builder<keyed>(io)
                .receiver(sa::per_key(key_of, {.workers = {1, 3}, .stop_key_on_failure = stop}),
                          [&](keyed k) -> asio::awaitable<int> {
                              co_await asio::post(co_await asio::this_coro::executor,
                                                  asio::use_awaitable);
                              if (k.key == 1 && k.index == 2) throw std::runtime_error("overdraft");
                              processed.push_back(k);
                              co_return k.index;
                          })
                .start_queue();
        run(io, [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 6; ++i)
                for (int k = 0; k < 3; ++k)
                    co_await task.send(keyed{k, i});
            task.close();
        });
        auto result = run(io, [&] { return task.wait(); });
        check_accounting(result);
        CHECK(result.stats().failed == 1);
        const auto key1 = std::count_if(processed.begin(), processed.end(),
                                        [](const keyed& k) { return k.key == 1; });
        if (stop) {
            CHECK(key1 == 2);  // 0 and 1; 2 failed; 3, 4, 5 cancelled
            CHECK(result.stats().cancelled == 3);
            for (const auto& e : result.errors()) {
                if (e.kind != sa::outcome::cancelled) continue;
                CHECK(e.message == "its key was stopped: an earlier event of the key failed "
                                   "(stop_key_on_failure)");
            }
            CHECK(fmt::format("{}", result.strategy_report().current)
                      .ends_with(", stop_key_on_failure)"));
        } else {
            CHECK(key1 == 5);
            CHECK(result.stats().cancelled == 0);
        }
        CHECK(result.stats().processed == 18 - 1 - (stop ? 3 : 0));
    }
}

TEST_CASE("per_key: retries after a backoff keep the key's order", "[per_key][retry]") {
    asio::io_context io;
    observer seen;
    std::map<int, int> attempts;  // by index, key 0 only
    auto task = sa::emitting_builder<keyed>(io)
                    .retry(2, sa::backoff{1ms})
                    .receiver(sa::per_key(key_of, {.workers = {1, 4}}),
                              [&](const keyed& k) {
                                  // Every third event of each key fails its first attempt.
                                  if (k.index % 3 == 0 && attempts[k.key * 1000 + k.index]++ == 0)
                                      throw std::runtime_error("try again");
                                  seen.enter(k);
                                  seen.leave(k);
                                  return k.index;
                              })
                    .start_queue();
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 30; ++i)
            for (int k = 0; k < 4; ++k)
                co_await task.send(keyed{k, i});
        task.close();
    });
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 120);
    CHECK(result.stats().retries == 40);
    CHECK(seen.in_order());
}

TEST_CASE("per_key: a key function that throws fails its event, the rest go on",
          "[per_key][failure]") {
    asio::io_context io;
    auto task = sa::emitting_builder<keyed>(io)
                    .receiver(sa::per_key([](const keyed& k) {
                                  if (k.key < 0) throw std::invalid_argument("no account");
                                  return k.key;
                              }),
                              [](const keyed& k) { return k.index; })
                    .start_queue();
    for (int i = 0; i < 10; ++i)
        REQUIRE_FALSE(task.try_send(keyed{i % 2 == 0 ? -1 : 1, i}));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().failed == 5);
    CHECK(result.stats().processed == 5);
    check_accounting(result);
    REQUIRE_FALSE(result.errors().empty());
    CHECK(result.errors()[0].message == "the key function threw: no account");
}

TEST_CASE("per_key: cancel(immediate) and the per-event timeout account for every event",
          "[per_key][cancel]") {
    asio::io_context io;
    valve never(io);
    auto task =
        sa::emitting_builder<keyed>(io)
            .capacity(8)
            .receiver(sa::per_key(key_of, {.workers = {1, 2}, .backlog = 6, .timeout = 20ms}),
                      [&](keyed k) -> asio::awaitable<int> {
                          if (k.index == 0) co_await never.pass();  // times out
                          co_return k.index;
                      })
            .start_queue();
    std::size_t accepted = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0;; ++i) {
                sweet_async::error_code ec;
                co_await task.async_send(keyed{i % 3, i / 3},
                                         asio::redirect_error(asio::use_awaitable, ec));
                if (ec) co_return;
                ++accepted;
            }
        },
        asio::detached);
    io.poll();  // two keys' first events in flight; lanes and channel full
    task.cancel(sa::cancellation_level::immediate);
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().sent == accepted);
    check_accounting(result);
}

TEST_CASE("per_key: invalid settings are rejected naming the field", "[per_key][builder]") {
    asio::io_context io;
    auto builder = sa::emitting_builder<keyed>(io).name("ledger");
    auto start = [&](sa::per_key_options o) {
        return builder.receiver(sa::per_key(key_of, o), [](const keyed& k) { return k.index; })
            .start_queue();
    };
    CHECK_THROWS_WITH(start({.workers = {0, 0}}),
                      Catch::Contains("per_key.workers.max must be at least 1, got 0"));
    CHECK_THROWS_WITH(
        start({.workers = {5, 2}}),
        Catch::Contains("per_key.workers.min must not exceed per_key.workers.max, got 5..2"));
    CHECK_THROWS_WITH(start({.backlog = 0}),
                      Catch::Contains("per_key.backlog must be at least 1, got 0"));
    CHECK_THROWS_WITH(start({.backlog_per_key = 0}),
                      Catch::Contains("per_key.backlog_per_key must be at least 1, got 0"));
    CHECK_THROWS_WITH(start({.timeout = -1ms}), Catch::Contains("per_key.timeout"));
}
