// cancel(immediate) and the task's deadline interrupt coroutine processors in
// flight; escalation from graceful; cancel() from anywhere, at any moment.
#include <sweet_async/sweet_async.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
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
using test_support::count_errors;
using test_support::run;

namespace {

/// A coroutine processor that hangs (an hour-long timer) on negative
/// payloads and counts how many hangs have begun.
struct hanging_processor {
    std::atomic<int>* hanging;

    asio::awaitable<int> operator()(int value) const {
        if (value < 0) {
            hanging->fetch_add(1);
            asio::steady_timer never(co_await asio::this_coro::executor, 1h);
            co_await never.async_wait(asio::use_awaitable);
        }
        co_return value;
    }
};

/// Yields to other work on the current executor until `count` reaches `target`.
asio::awaitable<void> until_reaches(const std::atomic<int>& count, int target) {
    while (count.load() < target)
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

/// Once `count` reaches `target`, cancels `task` (immediate) and returns its result.
template <class Task>
asio::awaitable<typename Task::result_type>
cancel_immediately_when(Task& task, const std::atomic<int>& count, int target) {
    co_await until_reaches(count, target);
    task.cancel(sa::cancellation_level::immediate);
    co_return co_await task.wait();
}

}  // namespace

TEST_CASE("interruption: cancel(immediate) interrupts the serial coroutine processor in flight",
          "[interruption][cancel]") {
    asio::io_context io;
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{}, hanging_processor{&hanging})
                    .start_queue();
    const auto start = std::chrono::steady_clock::now();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(1);
        co_await task.send(-1);  // hangs
        co_await task.send(2);
        co_await task.send(3);
        co_return co_await cancel_immediately_when(task, hanging, 1);
    });
    CHECK(std::chrono::steady_clock::now() - start < 10min);  // the hour was cut short
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().sent == 4);
    CHECK(result.stats().processed == 1);
    CHECK(result.stats().cancelled == 3);
    CHECK(result.collection().begin()->value == 1);
    // The interrupted event made one attempt; the two behind it never started.
    REQUIRE(result.errors().size() == 3);
    CHECK(result.errors()[0].sequence == 1);
    CHECK(result.errors()[0].attempts == 1);
    CHECK(result.errors()[0].message == "interrupted: the task was cancelled (immediate)");
    CHECK(result.errors()[1].attempts == 0);
    CHECK(result.errors()[2].attempts == 0);
    check_accounting(result);
}

TEST_CASE("interruption: cancel(immediate) interrupts every parallel processor in flight",
          "[interruption][cancel][parallel]") {
    asio::thread_pool pool(2);
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<int>(pool.get_executor())
                    .capacity(64)
                    .receiver(sa::parallel{.workers = {4, 4}}, hanging_processor{&hanging})
                    .start_queue();
    auto result = asio::co_spawn(
                      pool,
                      [&]() -> asio::awaitable<decltype(task)::result_type> {
                          for (int i = 0; i < 4; ++i)
                              co_await task.send(-1 - i);
                          for (int i = 0; i < 10; ++i)
                              co_await task.send(i);  // queued behind the four hangs
                          co_return co_await cancel_immediately_when(task, hanging, 4);
                      },
                      asio::use_future)
                      .get();
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().sent == 14);
    CHECK(result.stats().processed + result.stats().cancelled == 14);
    CHECK(count_errors(result, sa::outcome::cancelled, "interrupted") == 4);
    check_accounting(result);
}

TEST_CASE("interruption: a per-batch coroutine processor in flight is interrupted, batch and all",
          "[interruption][cancel][batched]") {
    asio::io_context io;
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::batched{.batch_size = 3, .window = 1h},
                              [&](std::span<const int> batch) -> asio::awaitable<std::vector<int>> {
                                  hanging.fetch_add(1);
                                  asio::steady_timer never(co_await asio::this_coro::executor, 1h);
                                  co_await never.async_wait(asio::use_awaitable);
                                  co_return std::vector<int>(batch.begin(), batch.end());
                              })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 0; i < 5; ++i)
            co_await task.send(i);
        co_return co_await cancel_immediately_when(task, hanging, 1);
    });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().cancelled == 5);
    CHECK(count_errors(result, sa::outcome::cancelled, "interrupted") == 3);
    check_accounting(result);
}

// Finding 3 of issue 12: the interrupted branch of the batch's outcomes skipped the line that
// gives the final event its payload back, so final_event() came back with an empty payload.
TEST_CASE("interruption: a final event in an interrupted batch keeps its payload",
          "[interruption][cancel][batched]") {
    asio::io_context io;
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<std::string>(io)
                    .receiver(sa::batched{.batch_size = 3, .window = 1h},
                              [&](std::span<const std::string> batch)
                                  -> asio::awaitable<std::vector<std::size_t>> {
                                  hanging.fetch_add(1);
                                  asio::steady_timer never(co_await asio::this_coro::executor, 1h);
                                  co_await never.async_wait(asio::use_awaitable);
                                  co_return std::vector<std::size_t>(batch.size(), 0);
                              })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send("first");
        co_await task.send_final("the final event's payload, long enough to live on the heap");
        co_return co_await cancel_immediately_when(task, hanging, 1);
    });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(count_errors(result, sa::outcome::cancelled, "interrupted") == 2);
    REQUIRE(result.final_event().has_value());
    CHECK(result.final_event()->payload() ==
          "the final event's payload, long enough to live on the heap");
    check_accounting(result);
}

TEST_CASE("interruption: the whole-task deadline interrupts processors in flight",
          "[interruption][timeout]") {
    asio::thread_pool pool(2);
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<int>(pool.get_executor())
                    .timeout(100ms)
                    .receiver(sa::parallel{.workers = {1, 2}}, hanging_processor{&hanging})
                    .start_queue();
    for (int i = 0; i < 2; ++i)
        CHECK_FALSE(task.try_send(-1));
    CHECK_FALSE(task.try_send(5));
    auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
    CHECK(result.status() == sa::task_status::timed_out);
    CHECK(result.stats().sent == 3);
    CHECK(count_errors(result, sa::outcome::cancelled, "interrupted: the task's deadline passed") ==
          2);
    CHECK(result.stats().cancelled + result.stats().processed == 3);
    check_accounting(result);
}

TEST_CASE("interruption: cancel(graceful) then cancel(immediate) escalates",
          "[interruption][cancel]") {
    asio::io_context io;
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{}, hanging_processor{&hanging})
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(-1);
        co_await task.send(2);
        co_await until_reaches(hanging, 1);
        task.cancel(sa::cancellation_level::graceful);  // would wait an hour for the hang
        CHECK(task.status() == sa::task_status::running);
        task.cancel(sa::cancellation_level::immediate);
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().cancelled == 2);
    CHECK(count_errors(result, sa::outcome::cancelled, "interrupted") == 1);
    check_accounting(result);
}

TEST_CASE("interruption: cancel(graceful) is not interrupted by a later graceful request, the "
          "deadline still ends it",
          "[interruption][timeout]") {
    asio::io_context io;
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<int>(io)
                    .timeout(100ms)
                    .receiver(sa::serial{}, hanging_processor{&hanging})
                    .start_queue();
    CHECK_FALSE(task.try_send(-1));
    task.cancel();
    task.cancel();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::timed_out);
    CHECK(count_errors(result, sa::outcome::cancelled, "deadline") == 1);
    check_accounting(result);
}

TEST_CASE("interruption: a processor may ignore the interruption, its result then counts",
          "[interruption][cancel]") {
    asio::io_context io;
    std::atomic<int> hanging{0};
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{},
                              [&](int value) -> asio::awaitable<int> {
                                  hanging.fetch_add(1);
                                  asio::steady_timer never(co_await asio::this_coro::executor, 1h);
                                  sweet_async::error_code ignored;
                                  co_await never.async_wait(
                                      asio::redirect_error(asio::use_awaitable, ignored));
                                  co_return value * 10;  // finishes anyway, without awaiting
                              })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(4);
        co_await task.send(5);
        co_return co_await cancel_immediately_when(task, hanging, 1);
    });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().processed == 1);  // the one in flight finished with its value
    CHECK(result.stats().cancelled == 1);  // the one behind it never started
    CHECK(result.collection().begin()->value == 40);
    check_accounting(result);
}

TEST_CASE("interruption: cancel() from many threads at any moment keeps the accounting",
          "[interruption][cancel][threads]") {
    for (int round = 0; round < 20; ++round) {
        asio::thread_pool pool(2);
        std::atomic<int> hanging{0};
        auto task = sa::emitting_builder<int>(pool.get_executor())
                        .receiver(sa::parallel{.workers = {1, 3}}, hanging_processor{&hanging})
                        .start_queue();
        std::atomic<std::size_t> accepted{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 3; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 200; ++i) {
                    // Every seventh payload of thread 0 hangs until the
                    // immediate cancel interrupts it.
                    const int value = (t == 0 && i % 7 == 0) ? -1 : i;
                    if (!task.try_send(value)) accepted.fetch_add(1);
                    if (i == 50 + round * 7 % 100) {
                        task.cancel(t == 1 ? sa::cancellation_level::immediate
                                           : sa::cancellation_level::graceful);
                    }
                }
                task.cancel(sa::cancellation_level::immediate);
            });
        }
        for (auto& thread : threads)
            thread.join();
        auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
        task.cancel(sa::cancellation_level::immediate);  // after the end: no effect
        INFO("round " << round);
        CHECK(result.status() == sa::task_status::cancelled);
        CHECK(task.status() == sa::task_status::cancelled);
        CHECK(result.stats().sent == accepted.load());
        check_accounting(result);
    }
}

TEST_CASE("interruption: cancel() before the first event and after completion",
          "[interruption][cancel]") {
    asio::io_context io;
    auto early =
        sa::emitting_builder<int>(io).receiver(sa::serial{}, [](int v) { return v; }).start_queue();
    early.cancel(sa::cancellation_level::immediate);
    CHECK(early.try_send(1) == sa::async_task_error::closed);
    auto early_result = run(io, [&] { return early.wait(); });
    CHECK(early_result.status() == sa::task_status::cancelled);
    CHECK(early_result.stats().sent == 0);

    auto late =
        sa::emitting_builder<int>(io).receiver(sa::serial{}, [](int v) { return v; }).start_queue();
    CHECK_FALSE(late.try_send_final(1));
    auto late_result = run(io, [&] { return late.wait(); });
    late.cancel(sa::cancellation_level::immediate);
    late.cancel();
    io.restart();
    io.run();
    CHECK(late_result.status() == sa::task_status::completed);
    CHECK(late.status() == sa::task_status::completed);
    CHECK(late_result.stats().processed == 1);
}
