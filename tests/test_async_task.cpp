#include <chrono>
#include <stdexcept>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <sweet_async/task/async_task.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::run;
using test_support::wait_an_hour;

namespace {
bool has_code(const sa::async_task_exception& e, sa::async_task_error code) {
    return e.code() == code;
}
}  // namespace

TEST_CASE("async_task: runs its work and hands back the value", "[async_task]") {
    asio::io_context io;
    sa::task_options options;
    options.name = "answer";
    auto task = sa::async_task<int>::run(io.get_executor(), options,
                                         []() -> asio::awaitable<int> { co_return 42; });
    CHECK(task.name() == "answer");
    CHECK(task.priority() == sa::task_priority::normal);
    CHECK(task.id().version() == 4);
    CHECK(run(io, [&] { return task.wait(); }) == 42);
    CHECK(task.status() == sa::task_status::completed);
    CHECK(task.is_complete());
    CHECK_THROWS_MATCHES(run(io, [&] { return task.wait(); }), sa::async_task_exception,
                         Catch::Predicate<sa::async_task_exception>([](const auto& e) {
                             return has_code(e, sa::async_task_error::result_taken);
                         }));
}

TEST_CASE("async_task: void work", "[async_task]") {
    asio::io_context io;
    bool ran = false;
    auto task = sa::async_task<>::run(io.get_executor(), {}, [&]() -> asio::awaitable<void> {
        ran = true;
        co_return;
    });
    run(io, [&] { return task.wait(); });
    CHECK(ran);
    CHECK(task.status() == sa::task_status::completed);
}

TEST_CASE("async_task: failed attempts are retried up to the retry count", "[async_task]") {
    for (unsigned retry : {1u, 2u}) {
        asio::io_context io;
        int attempts = 0;
        sa::task_options options;
        options.retry = retry;
        auto task = sa::async_task<std::string>::run(io.get_executor(), options,
                                                     [&]() -> asio::awaitable<std::string> {
                                                         if (++attempts < 3)
                                                             throw std::runtime_error("not yet");
                                                         co_return "done";
                                                     });
        INFO("retry = " << retry);
        if (retry == 2) {
            CHECK(run(io, [&] { return task.wait(); }) == "done");
            CHECK(task.status() == sa::task_status::completed);
        } else {
            CHECK_THROWS_WITH(run(io, [&] { return task.wait(); }), "not yet");
            CHECK(task.status() == sa::task_status::failed);
        }
        CHECK(attempts == static_cast<int>(retry) + 1);
    }
}

TEST_CASE("async_task: the timeout cuts the work short", "[async_task]") {
    asio::io_context io;
    sa::task_options options;
    options.name = "slow";
    options.timeout = 30ms;
    auto task = sa::async_task<>::run(io.get_executor(), options, wait_an_hour);
    CHECK_THROWS_MATCHES(run(io, [&] { return task.wait(); }), sa::async_task_exception,
                         Catch::Predicate<sa::async_task_exception>([](const auto& e) {
                             return has_code(e, sa::async_task_error::timeout) &&
                                    std::string(e.what()) ==
                                        "task 'slow' did not finish within 30ms";
                         }));
    CHECK(task.status() == sa::task_status::timed_out);
}

TEST_CASE("async_task: cancel() stops the work it awaits", "[async_task]") {
    asio::io_context io;
    auto task = sa::async_task<>::run(io.get_executor(), {}, wait_an_hour);
    io.poll();  // the work starts and parks on its timer
    task.cancel();
    CHECK_THROWS_MATCHES(run(io, [&] { return task.wait(); }), sa::async_task_exception,
                         Catch::Predicate<sa::async_task_exception>([](const auto& e) {
                             return has_code(e, sa::async_task_error::cancelled);
                         }));
    CHECK(task.status() == sa::task_status::cancelled);
}

TEST_CASE("async_task: cancel() before the work starts", "[async_task]") {
    asio::io_context io;
    bool started = false;
    auto task = sa::async_task<>::run(io.get_executor(), {}, [&]() -> asio::awaitable<void> {
        started = true;
        co_return;
    });
    task.cancel();
    CHECK_THROWS_AS(run(io, [&] { return task.wait(); }), sa::async_task_exception);
    CHECK_FALSE(started);
    CHECK(task.status() == sa::task_status::cancelled);
}

TEST_CASE("async_task: invalid options are rejected", "[async_task]") {
    asio::io_context io;
    sa::task_options options;
    options.timeout = -1s;
    CHECK_THROWS_WITH(sa::async_task<int>::run(io.get_executor(), options,
                                               []() -> asio::awaitable<int> { co_return 1; }),
                      Catch::Contains("timeout must be positive, got -1s"));
}
