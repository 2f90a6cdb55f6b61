#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
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

namespace {

/// Counts processors in flight and remembers the most seen at once.
struct concurrency_probe {
    std::atomic<int> now{0};
    std::atomic<int> most{0};
    void enter() {
        const int current = ++now;
        int seen = most.load();
        while (current > seen && !most.compare_exchange_weak(seen, current)) {
        }
    }
    void leave() { --now; }

    /// A coroutine processor body: counted in flight while it waits `d`.
    asio::awaitable<int> hold(int value, std::chrono::microseconds d) {
        enter();
        asio::steady_timer timer(co_await asio::this_coro::executor, d);
        co_await timer.async_wait(asio::use_awaitable);
        leave();
        co_return value;
    }
};

}  // namespace

TEST_CASE("parallel: 10 events and a final event with workers 2..4 (seed parallel test)",
          "[parallel]") {
    asio::thread_pool pool(2);
    auto task =
        sa::emitting_builder<std::size_t, test_support::counter_id>(pool)
            .receiver(sa::parallel{.workers = {2, 4}},
                      [](const std::size_t& data, sa::processor_context<test_support::counter_id>&,
                         sa::uuid) { return data * 2; })
            .start_queue();
    auto result = asio::co_spawn(
                      pool,
                      [&]() -> asio::awaitable<decltype(task)::result_type> {
                          for (std::size_t i = 0; i < 10; ++i)
                              co_await task.send(i);
                          co_await task.send_final(100);
                          co_return co_await task.wait();
                      },
                      asio::use_future)
                      .get();
    CHECK(result.collection().size() == 11);
    std::multiset<std::size_t> values;
    for (const auto& entry : result.collection())
        values.insert(entry.value);
    CHECK(values == std::multiset<std::size_t>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 200});
    CHECK(*result.collection().get(result.final_event()->id()) == 200);
    check_accounting(result);
}

TEST_CASE("parallel: never more than workers.max in flight, under many producers",
          "[parallel][threads]") {
    for (std::size_t max : {1u, 3u, 8u}) {
        asio::thread_pool pool(4);
        concurrency_probe probe;
        auto task = sa::emitting_builder<int>(pool)
                        .capacity(16)
                        .receiver(sa::parallel{.workers = {1, max}},
                                  [&](int value) { return probe.hold(value, 200us); })
                        .start_queue();
        std::vector<std::thread> producers;
        for (int p = 0; p < 4; ++p) {
            producers.emplace_back([task, p]() mutable {
                for (int i = 0; i < 100; ++i) {
                    if (task.try_send(p * 100 + i))
                        task.async_send(p * 100 + i, asio::use_future).get();
                }
            });
        }
        for (auto& t : producers)
            t.join();
        task.close();
        auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
        INFO("workers.max = " << max);
        CHECK(result.stats().processed == 400);
        CHECK(probe.most.load() <= static_cast<int>(max));
        CHECK(probe.most.load() >= 1);
        check_accounting(result);
    }
}

TEST_CASE("parallel: synchronous processors run on several threads at once",
          "[parallel][threads]") {
    asio::thread_pool pool(2);
    concurrency_probe probe;
    std::atomic<bool> release{false};
    // The first two events wait for each other: they can only finish if they
    // run at the same time on two threads (the test would hang otherwise).
    auto task = sa::emitting_builder<int>(pool)
                    .receiver(sa::parallel{.workers = {2, 2}},
                              [&](int value) {
                                  probe.enter();
                                  if (value < 2) {
                                      if (probe.now.load() == 2) release = true;
                                      while (!release.load())
                                          std::this_thread::yield();
                                  }
                                  probe.leave();
                                  return std::this_thread::get_id();
                              })
                    .start_queue();
    for (int i = 0; i < 4; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
    CHECK(probe.most.load() == 2);
    std::set<std::thread::id> threads;
    for (const auto& entry : result.collection())
        threads.insert(entry.value);
    CHECK(threads.size() == 2);
}

TEST_CASE("parallel: an offload executor gives a single-threaded task real parallelism",
          "[parallel][threads]") {
    asio::io_context io;
    asio::thread_pool workers(2);
    std::atomic<int> now{0};
    std::atomic<bool> met{false};
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::parallel{.workers = {2, 2}, .offload = workers.get_executor()},
                              [&](int value) {
                                  ++now;
                                  while (!met.load()) {
                                      if (now.load() == 2) met = true;
                                      std::this_thread::yield();
                                  }
                                  return value;
                              })
                    .start_queue();
    CHECK_FALSE(task.try_send(1));
    CHECK_FALSE(task.try_send_final(2));
    auto result = run(io, [&] { return task.wait(); });
    CHECK(met.load());
    CHECK(result.stats().processed == 2);
}

TEST_CASE("parallel: coroutine processors overlap their waits", "[parallel][coroutine]") {
    asio::io_context io;  // one thread: overlap can only come from concurrency
    concurrency_probe probe;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(64)
                    .receiver(sa::parallel{.workers = {1, 16}},
                              [&](int value) { return probe.hold(value, 5ms); })
                    .start_queue();
    for (int i = 0; i < 32; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 32);
    CHECK(probe.most.load() == 16);
}

TEST_CASE("parallel: ordered mode hands results over in arrival order", "[parallel]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(64)
                    .receiver(sa::parallel{.workers = {1, 8}, .ordered = true},
                              [](int value) {  // later events finish first
                                  return test_support::after(
                                      std::chrono::microseconds(2000 - 30 * value), value);
                              })
                    .start_queue();
    for (int i = 0; i < 40; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    std::vector<int> order;
    for (const auto& entry : result.collection())
        order.push_back(entry.value);
    std::vector<int> expected(40);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(order == expected);
}

namespace {

/// A payload whose copy constructor throws for one chosen value: a send that copies it fails
/// after the channel has claimed a place for it.
struct fragile {
    int value = 0;
    int throws_on_copy = -1;
    fragile(int v, int throwing) : value(v), throws_on_copy(throwing) {}
    fragile(const fragile& other) : value(other.value), throws_on_copy(other.throws_on_copy) {
        if (value == throws_on_copy) throw std::runtime_error("copy refused");
    }
    fragile(fragile&&) noexcept = default;
    fragile& operator=(const fragile&) = default;
    fragile& operator=(fragile&&) noexcept = default;
    ~fragile() = default;
};

}  // namespace

// Finding 1 of issue 12: the failed send left a hole in the arrival numbers, and the reorder
// buffer waited for it forever: six events vanished while the task reported `completed`.
TEST_CASE("parallel: ordered mode accounts for every event after a send whose copy threw",
          "[parallel][failure]") {
    asio::io_context io;
    auto task = sa::emitting_builder<fragile>(io)
                    .capacity(16)
                    .receiver(sa::parallel{.workers = {1, 4}, .ordered = true},
                              [](const fragile& f) {
                                  return test_support::after(
                                      std::chrono::microseconds(500 - 40 * f.value), f.value);
                              })
                    .start_queue();
    int refused = 0;
    for (int i = 0; i < 10; ++i) {
        const fragile payload(i, 3);
        sweet_async::error_code sent;
        try {
            sent = task.try_send(payload);  // copies
        } catch (const std::runtime_error&) {
            ++refused;
        }
        CHECK_FALSE(sent);
    }
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(refused == 1);
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().sent == 9);
    CHECK(result.stats().processed == 9);
    std::vector<int> order;
    for (const auto& entry : result.collection())
        order.push_back(entry.value);
    CHECK(order == std::vector<int>{0, 1, 2, 4, 5, 6, 7, 8, 9});
    check_accounting(result);
}

TEST_CASE("parallel: completion order is the default", "[parallel]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io)
            .receiver(sa::parallel{.workers = {1, 4}},
                      [](int value) { return test_support::after(value == 0 ? 30ms : 1ms, value); })
            .start_queue();
    for (int i = 0; i < 4; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    REQUIRE(result.collection().size() == 4);
    CHECK(result.collection().entries().back().value == 0);  // the slow first event came in last
}

TEST_CASE("parallel: failures, retries and per-event timeouts", "[parallel][failure]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io)
            .retry(1)
            .receiver(sa::parallel{.workers = {1, 4}, .timeout = 50ms},
                      [](int value) -> asio::awaitable<int> {
                          if (value == 1) throw std::runtime_error("one fails");
                          if (value == 2) {
                              asio::steady_timer never(co_await asio::this_coro::executor, 1h);
                              co_await never.async_wait(asio::use_awaitable);
                          }
                          co_return value;
                      })
            .start_queue();
    for (int i = 0; i < 4; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 2);
    CHECK(result.stats().failed == 1);
    CHECK(result.stats().timed_out == 1);
    CHECK(result.stats().retries == 1);
    check_accounting(result);
}

TEST_CASE("parallel: invalid worker bounds are rejected", "[parallel][builder]") {
    asio::io_context io;
    auto builder = sa::emitting_builder<int>(io).name("p");
    auto identity = [](int v) { return v; };
    CHECK_THROWS_WITH(builder.receiver(sa::parallel{.workers = {0, 0}}, identity).start_queue(),
                      Catch::Contains("parallel.workers.max must be at least 1, got 0"));
    CHECK_THROWS_WITH(
        builder.receiver(sa::parallel{.workers = {5, 2}}, identity).start_queue(),
        Catch::Contains("parallel.workers.min must not exceed parallel.workers.max, got 5..2"));
}
