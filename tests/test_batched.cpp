#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::check_accounting;
using test_support::run;

TEST_CASE("batched: full batches go at once, the rest when the stream ends", "[batched]") {
    asio::io_context io;
    std::vector<std::size_t> calls;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::batched{.batch_size = 5, .window = 1h},
                              [&](std::span<const int> batch) {
                                  calls.push_back(batch.size());
                                  std::vector<int> doubled;
                                  for (int v : batch)
                                      doubled.push_back(v * 2);
                                  return doubled;
                              })
                    .start_queue();
    for (int i = 0; i < 12; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(calls == std::vector<std::size_t>{5, 5, 2});
    std::vector<int> values;
    for (const auto& entry : result.collection())
        values.push_back(entry.value);
    std::vector<int> expected(12);
    for (int i = 0; i < 12; ++i)
        expected[static_cast<std::size_t>(i)] = 2 * i;
    CHECK(values == expected);
    check_accounting(result);
}

TEST_CASE("batched: the final event flushes the partial batch at once", "[batched]") {
    asio::io_context io;
    std::vector<std::size_t> calls;
    auto task = sa::emitting_builder<std::string>(io)
                    .receiver(sa::batched{.batch_size = 100, .window = 1h},
                              [&](std::span<const std::string> batch) {
                                  calls.push_back(batch.size());
                                  return std::vector<std::size_t>(batch.size(), 1);
                              })
                    .start_queue();
    // With an hour-long window, only the final event can make this finish.
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send("a");
        co_await task.send("b");
        co_await task.send("c");
        co_await task.send_final("end");
        co_return co_await task.wait();
    });
    CHECK(calls == std::vector<std::size_t>{4});
    REQUIRE(result.final_event());
    CHECK(result.final_event()->payload() == "end");  // keeps its payload after batching
    check_accounting(result);
}

TEST_CASE("batched: a partial batch goes when its window closes", "[batched]") {
    asio::io_context io;
    constexpr auto window = 40ms;
    std::vector<std::size_t> calls;
    std::optional<std::chrono::steady_clock::time_point> called_at;
    using task_type =
        decltype(sa::emitting_builder<int>(io)
                     .receiver(sa::batched{},
                               [](std::span<const int>) { return std::vector<int>{}; })
                     .start_queue());
    std::optional<task_type> task;
    task.emplace(
        sa::emitting_builder<int>(io)
            .receiver(sa::batched{.batch_size = 100, .window = window},
                      [&](std::span<const int> batch) {
                          calls.push_back(batch.size());
                          called_at = std::chrono::steady_clock::now();
                          task->close();  // the stream was never closed: the window flushed it
                          return std::vector<int>(batch.begin(), batch.end());
                      })
            .start_queue());
    const auto sent_at = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(task->try_send(i));
    auto result = run(io, [&] { return task->wait(); });
    CHECK(calls == std::vector<std::size_t>{3});
    REQUIRE(called_at);
    CHECK(*called_at - sent_at >= window);
    CHECK(result.stats().processed == 3);
}

TEST_CASE("batched: a per-batch processor returning the wrong count fails that batch",
          "[batched][failure]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::batched{.batch_size = 3, .window = 1h},
                              [](std::span<const int> batch) {
                                  if (batch.front() == 0) return std::vector<int>{1};  // 1 for 3
                                  return std::vector<int>(batch.begin(), batch.end());
                              })
                    .start_queue();
    for (int i = 0; i < 6; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().failed == 3);
    CHECK(result.stats().processed == 3);
    for (const auto& error : result.errors()) {
        CHECK(error.message == "the batch processor returned 1 results for 3 events");
        CHECK(error.sequence < 3);
    }
    check_accounting(result);
}

TEST_CASE("batched: a throwing per-batch processor is retried, then fails every event",
          "[batched][failure]") {
    asio::io_context io;
    int calls = 0;
    auto task = sa::emitting_builder<int>(io)
                    .retry(2)
                    .receiver(sa::batched{.batch_size = 4, .window = 1h},
                              [&](std::span<const int>) -> std::vector<int> {
                                  ++calls;
                                  throw std::runtime_error("database unavailable");
                              })
                    .start_queue();
    for (int i = 0; i < 4; ++i)
        CHECK_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(calls == 3);
    CHECK(result.stats().failed == 4);
    CHECK(result.stats().retries == 2);
    CHECK(result.errors()[0].message == "database unavailable");
}

TEST_CASE("batched: coroutine per-batch processors and per-event processors", "[batched]") {
    asio::io_context io;
    auto batch_task =
        sa::emitting_builder<int>(io)
            .receiver(sa::batched{.batch_size = 4, .window = 1h},
                      [](std::span<const int> batch) -> asio::awaitable<std::vector<int>> {
                          asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
                          co_await timer.async_wait(asio::use_awaitable);
                          co_return std::vector<int>(batch.begin(), batch.end());
                      })
            .start_queue();
    auto item_task =
        sa::emitting_builder<int>(io)
            .receiver(sa::batched{.batch_size = 4, .window = 1h}, [](int v) { return -v; })
            .start_queue();
    for (int i = 0; i < 10; ++i) {
        CHECK_FALSE(batch_task.try_send(i));
        CHECK_FALSE(item_task.try_send(i));
    }
    batch_task.close();
    item_task.close();
    auto batch_result = run(io, [&] { return batch_task.wait(); });
    auto item_result = run(io, [&] { return item_task.wait(); });
    CHECK(batch_result.stats().processed == 10);
    std::vector<int> items;
    for (const auto& entry : item_result.collection())
        items.push_back(entry.value);
    CHECK(items == std::vector<int>{0, -1, -2, -3, -4, -5, -6, -7, -8, -9});
}

TEST_CASE("batched: a per-batch processor also serves serial and parallel, one event per call",
          "[batched][serial][parallel]") {
    asio::io_context io;
    const auto sizes = test_support::string_sizes;
    auto serial_task =
        sa::emitting_builder<std::string>(io).receiver(sa::serial{}, sizes).start_queue();
    auto parallel_task =
        sa::emitting_builder<std::string>(io).receiver(sa::parallel{}, sizes).start_queue();
    CHECK_FALSE(serial_task.try_send_final("abc"));
    CHECK_FALSE(parallel_task.try_send_final("abcd"));
    auto serial_result = run(io, [&] { return serial_task.wait(); });
    auto parallel_result = run(io, [&] { return parallel_task.wait(); });
    CHECK(*serial_result.collection().get(serial_result.final_event()->id()) == 3);
    CHECK(*parallel_result.collection().get(parallel_result.final_event()->id()) == 4);
}

TEST_CASE("batched: invalid options are rejected", "[batched][builder]") {
    asio::io_context io;
    auto builder = sa::emitting_builder<int>(io).name("b");
    auto identity = [](int v) { return v; };
    CHECK_THROWS_WITH(builder.receiver(sa::batched{.batch_size = 0}, identity).start_queue(),
                      Catch::Contains("batched.batch_size must be at least 1, got 0"));
    CHECK_THROWS_WITH(builder.receiver(sa::batched{.window = -1ms}, identity).start_queue(),
                      Catch::Contains("batched.window must be positive, got -1ms"));
}
