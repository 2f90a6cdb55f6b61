// Retries with a backoff: the waits are real, never block a thread, keep the
// strategies' ordering, and end early when the task stops.
#include <sweet_async/sweet_async.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::check_accounting;
using test_support::run;

namespace {

using steady = std::chrono::steady_clock;

/// Fails the first `failures` attempts at every event, recording each call.
struct flaky_processor {
    unsigned failures;
    std::vector<std::pair<int, unsigned>>* calls;  // (payload, attempt), consumer thread only

    int operator()(int value, sa::processor_context<>& context, sa::uuid) const {
        calls->emplace_back(value, context.attempt());
        if (context.attempt() <= failures) throw std::runtime_error(fmt::format("flaky {}", value));
        return value;
    }
};

}  // namespace

TEST_CASE("backoff: waits grow by the multiplier up to the maximum", "[retry][backoff]") {
    const sa::backoff none;
    CHECK(none.immediate());
    CHECK(none.delay(1) == 0ns);
    CHECK(fmt::format("{}", none) == "backoff(none)");

    const sa::backoff growing{.initial = 10ms, .multiplier = 2.0, .max = 30ms};
    CHECK_FALSE(growing.immediate());
    CHECK(growing.delay(1) == 10ms);
    CHECK(growing.delay(2) == 20ms);
    CHECK(growing.delay(3) == 30ms);
    CHECK(growing.delay(60) == 30ms);  // saturates instead of overflowing
    CHECK(fmt::format("{}", growing) == "backoff(10ms x2 max 30ms)");

    const sa::backoff flat{.initial = 5ms, .multiplier = 1.0};
    CHECK(flat.delay(7) == 5ms);
}

TEST_CASE("backoff: invalid settings are rejected, naming the field and the value",
          "[retry][backoff][builder]") {
    asio::io_context io;
    auto identity = [](int v) { return v; };
    auto rejects = [&](sa::backoff wait, std::string expected) {
        INFO(expected);
        try {
            (void)sa::emitting_builder<int>(io)
                .name("bad")
                .retry(1, wait)
                .receiver(sa::serial{}, identity)
                .start_queue();
            FAIL("accepted");
        } catch (const sa::async_task_exception& ex) {
            CHECK(ex.code() == sa::async_task_error::invalid_configuration);
            CHECK_THAT(ex.what(), Catch::Contains(expected));
        }
    };
    rejects({.initial = -1ms}, "retry_backoff.initial must not be negative, got -1ms");
    rejects({.initial = 1ms, .multiplier = 0.5},
            "retry_backoff.multiplier must be at least 1, got 0.5");
    rejects({.initial = 1ms, .multiplier = std::numeric_limits<double>::quiet_NaN()},
            "retry_backoff.multiplier must be at least 1, got nan");
    rejects({.initial = 2s, .max = 1s},
            "retry_backoff.max must be at least retry_backoff.initial (2s), got 1s");
}

TEST_CASE("retry: a synchronous serial processor waits its backoff without reordering events",
          "[retry][backoff][serial]") {
    asio::io_context io;
    std::vector<std::pair<int, unsigned>> calls;
    auto task =
        sa::emitting_builder<int>(io)
            .retry(2, sa::backoff{.initial = 20ms})
            .receiver(sa::serial{},
                      [&](int value, sa::processor_context<>& context, sa::uuid id) {
                          // Event 1 always fails; the others succeed.
                          return flaky_processor{value == 1 ? 99u : 0u, &calls}(value, context, id);
                      })
            .start_queue();
    const auto start = steady::now();
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(task.try_send(i));
    CHECK_FALSE(task.try_send_final(3));
    auto result = run(io, [&] { return task.wait(); });
    // Two waits, 20 ms then 40 ms, before the second and third attempts.
    CHECK(steady::now() - start >= 60ms);
    const std::vector<std::pair<int, unsigned>> expected{{0, 1}, {1, 1}, {1, 2},
                                                         {1, 3}, {2, 1}, {3, 1}};
    CHECK(calls == expected);
    CHECK(result.stats().processed == 3);
    CHECK(result.stats().failed == 1);
    CHECK(result.stats().retries == 2);
    REQUIRE(result.errors().size() == 1);
    CHECK(result.errors()[0].message == "flaky 1");
    CHECK(result.errors()[0].attempts == 3);
    CHECK(result.errors()[0].sequence == 1);
    check_accounting(result);
}

TEST_CASE("retry: a coroutine processor recovers after backoff waits", "[retry][backoff]") {
    asio::io_context io;
    std::atomic<int> calls{0};
    auto task = sa::emitting_builder<int>(io)
                    .retry(3, sa::backoff{.initial = 5ms, .multiplier = 3.0})
                    .receiver(sa::serial{},
                              [&](int value, sa::processor_context<>& context,
                                  sa::uuid) -> asio::awaitable<int> {
                                  calls.fetch_add(1);
                                  if (context.attempt() < 3) throw std::runtime_error("not yet");
                                  co_return value * 2;
                              })
                    .start_queue();
    const auto start = steady::now();
    CHECK_FALSE(task.try_send_final(21));
    auto result = run(io, [&] { return task.wait(); });
    CHECK(steady::now() - start >= 20ms);  // 5 ms + 15 ms
    CHECK(calls == 3);
    CHECK(result.stats().processed == 1);
    CHECK(result.stats().retries == 2);
    CHECK(result.collection().begin()->value == 42);
    check_accounting(result);
}

TEST_CASE("retry: parallel synchronous processors retry after a backoff on the pool",
          "[retry][backoff][parallel]") {
    asio::thread_pool pool(2);
    std::mutex mutex;
    std::vector<std::pair<int, unsigned>> calls;
    auto task = sa::emitting_builder<int>(pool.get_executor())
                    .retry(1, sa::backoff{.initial = 2ms})
                    .receiver(sa::parallel{.workers = {1, 4}},
                              [&](int value, sa::processor_context<>& context, sa::uuid id) {
                                  std::lock_guard lock(mutex);
                                  return flaky_processor{1, &calls}(value, context, id);
                              })
                    .start_queue();
    auto result = asio::co_spawn(
                      pool,
                      [&]() -> asio::awaitable<decltype(task)::result_type> {
                          for (int i = 0; i < 40; ++i)
                              co_await task.send(i);
                          task.close();
                          co_return co_await task.wait();
                      },
                      asio::use_future)
                      .get();
    CHECK(result.stats().processed == 40);
    CHECK(result.stats().retries == 40);
    CHECK(calls.size() == 80);
    check_accounting(result);
}

TEST_CASE("retry: a per-batch processor retries the whole batch after its backoff",
          "[retry][backoff][batched]") {
    asio::io_context io;
    std::vector<std::vector<int>> batches;
    bool failed_once = false;
    auto task = sa::emitting_builder<int>(io)
                    .retry(1, sa::backoff{.initial = 5ms})
                    .receiver(sa::batched{.batch_size = 2, .window = 1h},
                              [&](std::span<const int> batch) {
                                  batches.emplace_back(batch.begin(), batch.end());
                                  if (!failed_once && batch.front() == 0) {
                                      failed_once = true;
                                      throw std::runtime_error("first try");
                                  }
                                  return std::vector<int>(batch.begin(), batch.end());
                              })
                    .start_queue();
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(task.try_send(i));
    CHECK_FALSE(task.try_send_final(3));
    auto result = run(io, [&] { return task.wait(); });
    const std::vector<std::vector<int>> expected{{0, 1}, {0, 1}, {2, 3}};
    CHECK(batches == expected);  // the next batch waited for the retried one
    CHECK(result.stats().processed == 4);
    CHECK(result.stats().retries == 1);
    REQUIRE(result.final_event());
    CHECK(result.final_event()->payload() == 3);
    check_accounting(result);
}

TEST_CASE("retry: a stop during the backoff ends the retries with the last attempt's outcome",
          "[retry][backoff][cancel]") {
    asio::io_context io;
    std::vector<std::pair<int, unsigned>> calls;
    auto task = sa::emitting_builder<int>(io)
                    .retry(5, sa::backoff{.initial = 1h, .max = 1h})
                    .receiver(sa::serial{}, flaky_processor{99, &calls})
                    .start_queue();
    const auto start = steady::now();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(7);
        co_await task.send(8);
        while (calls.empty())
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        task.cancel(sa::cancellation_level::immediate);
        co_return co_await task.wait();
    });
    CHECK(steady::now() - start < 10min);  // the hour-long backoff was cut short
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(calls.size() == 1);
    CHECK(result.stats().failed == 1);
    CHECK(result.stats().cancelled == 1);
    REQUIRE(result.errors().size() == 2);
    CHECK(result.errors()[0].kind == sa::outcome::failed);
    CHECK(result.errors()[0].message == "flaky 7");
    CHECK(result.errors()[0].attempts == 1);
    CHECK(result.errors()[1].kind == sa::outcome::cancelled);
    check_accounting(result);
}

TEST_CASE("retry: async_task waits its backoff between attempts", "[retry][backoff][async_task]") {
    asio::io_context io;
    int attempts = 0;
    const auto start = steady::now();
    auto task = sa::async_task<int>::run(
        io.get_executor(), {.name = "flaky", .retry = 2, .retry_backoff = {.initial = 10ms}},
        [&]() -> asio::awaitable<int> {
            if (++attempts < 3) throw std::runtime_error("again");
            co_return 5;
        });
    CHECK(run(io, [&] { return task.wait(); }) == 5);
    CHECK(steady::now() - start >= 30ms);  // 10 ms + 20 ms
    CHECK(attempts == 3);
}
