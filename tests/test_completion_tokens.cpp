// Asio's asynchronous model: the completion-token forms (async_send,
// async_send_final, async_wait) with use_awaitable, use_future, callbacks,
// deferred and bind_executor, on every kind of executor.
#include <sweet_async/sweet_async.hpp>

#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <sweet_async/base/detail/asio_compat.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::run;
using test_support::twice;
using test_support::wait_an_hour;

#ifdef SWEET_ASYNC_TESTS_TSAN
// asio::use_future delivers exceptions from Asio's system thread. The
// exception object's reference count lives in the uninstrumented libstdc++, so
// ThreadSanitizer misses its synchronisation and reports the free of the
// exception (by the last exception_ptr, often the one in the future's shared
// state) racing with the test thread's earlier reads of it: a known false
// positive (ASan would catch a real use after free).
extern "C" const char* __tsan_default_suppressions() {
    return "race:std::__exception_ptr::exception_ptr::_M_release\n"
           "race:std::__future_base::_Result<*>::_M_destroy\n";
}
#endif

namespace {

/// An emitting task that doubles ints, serially.
auto start_doubling(asio::any_io_executor executor) {
    return sa::emitting_builder<int>(std::move(executor))
        .name("doubling")
        .receiver(sa::serial{}, twice)
        .start_queue();
}

using doubling_task = decltype(start_doubling(std::declval<asio::any_io_executor>()));
using doubling_result = doubling_task::result_type;

int sum_of(const doubling_result& result) {
    int sum = 0;
    for (const auto& entry : result.collection())
        sum += entry.value;
    return sum;
}

/// The code of the `Exception` held by `failure`; an empty code when it
/// holds nothing or another type.
template <class Exception>
sweet_async::error_code error_of(const std::exception_ptr& failure) {
    try {
        if (failure) std::rethrow_exception(failure);
    } catch (const Exception& e) {
        return e.code();
    } catch (...) {
    }
    return {};
}

/// The message of the `std::runtime_error` held by `failure`, or "".
std::string runtime_error_of(const std::exception_ptr& failure) {
    try {
        if (failure) std::rethrow_exception(failure);
    } catch (const std::runtime_error& e) {
        return e.what();
    } catch (...) {
    }
    return {};
}

auto has_code(sweet_async::error_code expected) {
    return Catch::Predicate<sweet_async::system_error>(
        [expected](const sweet_async::system_error& e) { return e.code() == expected; });
}

auto has_library_code(sa::async_task_error expected) {
    return Catch::Predicate<sa::async_task_exception>(
        [expected](const sa::async_task_exception& e) { return e.code() == expected; });
}

/// An io_context run by its own thread until destroyed.
struct threaded_io {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
    std::thread runner{[this] { io.run(); }};

    ~threaded_io() {
        guard.reset();
        io.stop();
        runner.join();
    }
};

/// Everything a plain thread does with both kinds of task on `executor`,
/// through use_future, a callback and a coroutine spawned on `executor`.
void exercise_from_plain_thread(asio::any_io_executor executor) {
    auto task = start_doubling(executor);
    task.async_send(1, asio::use_future).get();

    std::promise<sweet_async::error_code> sent;
    task.async_send(2, [&](sweet_async::error_code ec, sa::uuid) { sent.set_value(ec); });
    CHECK(sent.get_future().get() == sweet_async::error_code());

    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> { co_await task.async_send_final(3, asio::use_awaitable); },
        asio::use_future)
        .get();

    const doubling_result result = task.async_wait(asio::use_future).get();
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 3);
    CHECK(sum_of(result) == 12);

    CHECK_THROWS_MATCHES(task.async_wait(asio::use_future).get(), sa::async_task_exception,
                         has_library_code(sa::async_task_error::result_taken));
    CHECK_THROWS_MATCHES(task.async_send(4, asio::use_future).get(), sweet_async::system_error,
                         has_code(sa::async_task_error::closed));

    auto job =
        sa::async_task<int>::run(executor, {}, []() -> asio::awaitable<int> { co_return 42; });
    CHECK(job.async_wait(asio::use_future).get() == 42);
    CHECK_THROWS_MATCHES(job.async_wait(asio::use_future).get(), sa::async_task_exception,
                         has_library_code(sa::async_task_error::result_taken));
}

}  // namespace

// ----- emitting_task ----------------------------------------------------------------------------

TEST_CASE("tokens: emitting task with use_awaitable", "[tokens][emitting]") {
    asio::io_context io;
    auto task = start_doubling(io.get_executor());

    auto result = run(io, [&]() -> asio::awaitable<doubling_result> {
        co_await task.async_send(1, asio::use_awaitable);
        co_await task.async_send_final(2, asio::use_awaitable);
        co_return co_await task.async_wait(asio::use_awaitable);
    });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 2);
    CHECK(sum_of(result) == 6);
    REQUIRE(result.final_event());
    CHECK(result.final_event()->payload() == 2);

    // The library's own exceptions, unchanged.
    CHECK_THROWS_MATCHES(run(io, [&] { return task.async_wait(asio::use_awaitable); }),
                         sa::async_task_exception,
                         has_library_code(sa::async_task_error::result_taken));
    CHECK_THROWS_MATCHES(run(io, [&] { return task.async_send(3, asio::use_awaitable); }),
                         sweet_async::system_error, has_code(sa::async_task_error::closed));
}

TEST_CASE("tokens: emitting task with use_future from a plain thread", "[tokens][emitting]") {
    threaded_io context;
    auto task = start_doubling(context.io.get_executor());

    std::optional<doubling_result> result;
    sweet_async::error_code late_send;
    sa::async_task_error second_wait{};
    std::thread producer([&] {
        for (int i = 1; i <= 10; ++i)
            task.async_send(i, asio::use_future).get();
        task.async_send_final(11, asio::use_future).get();
        result = task.async_wait(asio::use_future).get();
        try {
            task.async_send(12, asio::use_future).get();
        } catch (const sweet_async::system_error& e) {
            late_send = e.code();
        }
        try {
            (void)task.async_wait(asio::use_future).get();
        } catch (const sa::async_task_exception& e) {
            second_wait = static_cast<sa::async_task_error>(e.code().value());
        }
    });
    producer.join();

    REQUIRE(result);
    CHECK(result->status() == sa::task_status::completed);
    CHECK(result->stats().sent == 11);
    CHECK(result->stats().processed == 11);
    CHECK(sum_of(*result) == 132);
    CHECK(late_send == sa::async_task_error::closed);
    CHECK(second_wait == sa::async_task_error::result_taken);
}

TEST_CASE("tokens: emitting task with plain callbacks", "[tokens][emitting]") {
    asio::io_context io;
    auto task = start_doubling(io.get_executor());

    std::optional<sweet_async::error_code> first;
    std::optional<sweet_async::error_code> last;
    std::optional<std::exception_ptr> failure;
    std::optional<doubling_result> result;
    task.async_send(1, [&](sweet_async::error_code ec, sa::uuid) { first = ec; });
    task.async_send_final(2, [&](sweet_async::error_code ec, sa::uuid) { last = ec; });
    task.async_wait([&](std::exception_ptr e, doubling_result r) {
        failure = e;
        result = std::move(r);
    });
    // A handler never runs inside the call that starts its operation.
    CHECK_FALSE(first);
    CHECK_FALSE(last);
    CHECK_FALSE(failure);

    io.run();
    CHECK(first == sweet_async::error_code());
    CHECK(last == sweet_async::error_code());
    REQUIRE(failure);
    CHECK_FALSE(*failure);
    REQUIRE(result);
    CHECK(result->stats().processed == 2);
    CHECK(sum_of(*result) == 6);

    // Errors: a closed task, and a result that was handed out.
    std::optional<sweet_async::error_code> closed;
    std::optional<std::exception_ptr> second;
    std::optional<doubling_result> second_value;
    task.async_send(3, [&](sweet_async::error_code ec, sa::uuid) { closed = ec; });
    task.async_wait([&](std::exception_ptr e, doubling_result r) {
        second = e;
        second_value = std::move(r);
    });
    CHECK_FALSE(closed);
    CHECK_FALSE(second);
    io.restart();
    io.run();
    CHECK(closed == sa::async_task_error::closed);
    REQUIRE(second);
    CHECK(error_of<sa::async_task_exception>(*second) == sa::async_task_error::result_taken);
    REQUIRE(second_value);
    CHECK(second_value->status() == sa::task_status::pending);
}

TEST_CASE("tokens: emitting task with deferred", "[tokens][emitting]") {
    asio::io_context io;
    auto task = start_doubling(io.get_executor());

    // Composing starts nothing: no event is sent, no result is taken.
    auto send_one = task.async_send(1, sa::detail::deferred);
    auto send_last = task.async_send_final(2, sa::detail::deferred);
    auto early_wait = task.async_wait(sa::detail::deferred);
    auto summed = task.async_wait(sa::detail::deferred)(
        sa::detail::deferred([](std::exception_ptr e, doubling_result r) {
            return sa::detail::deferred.values(e, sum_of(r));
        }));
    CHECK(task.stats().sent == 0);

    std::optional<sweet_async::error_code> first;
    std::optional<sweet_async::error_code> last;
    std::move(send_one)([&](sweet_async::error_code ec, sa::uuid) { first = ec; });
    std::move(send_last)([&](sweet_async::error_code ec, sa::uuid) { last = ec; });
    std::optional<std::exception_ptr> failure;
    std::optional<int> sum;
    std::move(summed)([&](std::exception_ptr e, int s) {
        failure = e;
        sum = s;
    });
    io.run();
    CHECK(first == sweet_async::error_code());
    CHECK(last == sweet_async::error_code());
    REQUIRE(failure);
    CHECK_FALSE(*failure);
    CHECK(sum == 6);

    // The wait composed first only starts now, and finds the result taken.
    std::optional<std::exception_ptr> taken;
    std::move(early_wait)([&](std::exception_ptr e, const doubling_result&) { taken = e; });
    io.restart();
    io.run();
    REQUIRE(taken);
    CHECK(error_of<sa::async_task_exception>(*taken) == sa::async_task_error::result_taken);

    std::optional<sweet_async::error_code> closed;
    task.async_send(3, sa::detail::deferred)(
        [&](sweet_async::error_code ec, sa::uuid) { closed = ec; });
    io.restart();
    io.run();
    CHECK(closed == sa::async_task_error::closed);
}

TEST_CASE("tokens: emitting task handlers bound to a strand run on it", "[tokens][emitting]") {
    asio::thread_pool pool(2);
    auto strand = asio::make_strand(pool);
    auto task = start_doubling(pool.get_executor());

    std::promise<bool> sent_on_strand;
    task.async_send_final(5, asio::bind_executor(strand, [&](sweet_async::error_code ec, sa::uuid) {
                              sent_on_strand.set_value(!ec && strand.running_in_this_thread());
                          }));
    CHECK(sent_on_strand.get_future().get());

    std::promise<std::pair<bool, int>> waited;
    task.async_wait(asio::bind_executor(strand, [&](std::exception_ptr e, doubling_result r) {
        waited.set_value({!e && strand.running_in_this_thread(), sum_of(r)});
    }));
    CHECK(waited.get_future().get() == std::pair(true, 10));
}

TEST_CASE("tokens: a cancelled async_wait ends with operation_aborted, the task goes on",
          "[tokens][emitting][cancellation]") {
    asio::io_context io;
    auto task = start_doubling(io.get_executor());
    asio::cancellation_signal signal;

    SECTION("a callback with a cancellation slot") {
        std::optional<std::exception_ptr> cancelled;
        std::optional<doubling_result> empty;
        task.async_wait(asio::bind_cancellation_slot(signal.slot(),
                                                     [&](std::exception_ptr e, doubling_result r) {
                                                         cancelled = e;
                                                         empty = std::move(r);
                                                     }));
        io.poll();  // everything ready has run: the wait is parked
        CHECK_FALSE(cancelled);
        signal.emit(asio::cancellation_type::terminal);
        while (!cancelled && io.run_one() != 0) {
        }
        REQUIRE(cancelled);
        CHECK(error_of<sweet_async::system_error>(*cancelled) == asio::error::operation_aborted);
        REQUIRE(empty);
        CHECK(empty->status() == sa::task_status::pending);
    }

    SECTION("use_awaitable in a coroutine whose co_spawn is cancelled") {
        std::optional<std::exception_ptr> ended;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<int> {
                co_return sum_of(co_await task.async_wait(asio::use_awaitable));
            },
            asio::bind_cancellation_slot(signal.slot(),
                                         [&](std::exception_ptr e, int) { ended = e; }));
        io.poll();
        CHECK_FALSE(ended);
        signal.emit(asio::cancellation_type::terminal);
        while (!ended && io.run_one() != 0) {
        }
        REQUIRE(ended);
        CHECK(error_of<sweet_async::system_error>(*ended) == asio::error::operation_aborted);
    }

    CHECK(task.status() == sa::task_status::running);
    CHECK_FALSE(task.is_complete());

    // The result is still there for a later wait.
    CHECK(task.try_send_final(21) == sweet_async::error_code());
    std::optional<int> sum;
    task.async_wait([&](std::exception_ptr e, doubling_result r) {
        CHECK_FALSE(e);
        sum = sum_of(r);
    });
    io.run();
    CHECK(sum == 42);
    CHECK(task.status() == sa::task_status::completed);
}

// ----- async_task -------------------------------------------------------------------------------

TEST_CASE("tokens: async_task with use_awaitable", "[tokens][async_task]") {
    asio::io_context io;
    auto task = sa::async_task<int>::run(io.get_executor(), {},
                                         []() -> asio::awaitable<int> { co_return 42; });
    CHECK(run(io, [&] { return task.async_wait(asio::use_awaitable); }) == 42);
    CHECK_THROWS_MATCHES(run(io, [&] { return task.async_wait(asio::use_awaitable); }),
                         sa::async_task_exception,
                         has_library_code(sa::async_task_error::result_taken));

    // The work's own exception, unchanged.
    sa::task_options options;
    options.name = "failing";
    auto failing =
        sa::async_task<int>::run(io.get_executor(), options, []() -> asio::awaitable<int> {
            throw std::runtime_error("boom");
        });
    CHECK_THROWS_WITH(run(io, [&] { return failing.async_wait(asio::use_awaitable); }), "boom");

    auto nothing =
        sa::async_task<>::run(io.get_executor(), {}, []() -> asio::awaitable<void> { co_return; });
    run(io, [&] { return nothing.async_wait(asio::use_awaitable); });
    CHECK(nothing.status() == sa::task_status::completed);
}

TEST_CASE("tokens: async_task with use_future from a plain thread", "[tokens][async_task]") {
    threaded_io context;
    auto answer = sa::async_task<int>::run(context.io.get_executor(), {},
                                           []() -> asio::awaitable<int> { co_return 42; });
    auto failing =
        sa::async_task<int>::run(context.io.get_executor(), {}, []() -> asio::awaitable<int> {
            throw std::runtime_error("boom");
        });
    auto nothing = sa::async_task<>::run(context.io.get_executor(), {},
                                         []() -> asio::awaitable<void> { co_return; });

    std::optional<int> value;
    std::string failure;
    bool void_done = false;
    sa::async_task_error second{};
    std::thread caller([&] {
        value = answer.async_wait(asio::use_future).get();
        try {
            (void)failing.async_wait(asio::use_future).get();
        } catch (const std::runtime_error& e) {
            failure = e.what();
        }
        nothing.async_wait(asio::use_future).get();
        void_done = true;
        try {
            (void)answer.async_wait(asio::use_future).get();
        } catch (const sa::async_task_exception& e) {
            second = static_cast<sa::async_task_error>(e.code().value());
        }
    });
    caller.join();

    CHECK(value == 42);
    CHECK(failure == "boom");
    CHECK(void_done);
    CHECK(second == sa::async_task_error::result_taken);
}

TEST_CASE("tokens: async_task with plain callbacks", "[tokens][async_task]") {
    asio::io_context io;
    auto answer = sa::async_task<int>::run(io.get_executor(), {},
                                           []() -> asio::awaitable<int> { co_return 42; });
    auto failing = sa::async_task<int>::run(
        io.get_executor(), {}, []() -> asio::awaitable<int> { throw std::runtime_error("boom"); });
    auto nothing =
        sa::async_task<>::run(io.get_executor(), {}, []() -> asio::awaitable<void> { co_return; });

    std::optional<std::pair<std::exception_ptr, int>> got;
    std::optional<std::pair<std::exception_ptr, int>> failed;
    std::optional<std::exception_ptr> void_done;
    answer.async_wait([&](std::exception_ptr e, int v) { got.emplace(e, v); });
    failing.async_wait([&](std::exception_ptr e, int v) { failed.emplace(e, v); });
    nothing.async_wait([&](std::exception_ptr e) { void_done = e; });
    CHECK_FALSE(got);
    io.run();

    REQUIRE(got);
    CHECK_FALSE(got->first);
    CHECK(got->second == 42);
    REQUIRE(failed);
    CHECK(runtime_error_of(failed->first) == "boom");
    CHECK(failed->second == 0);
    REQUIRE(void_done);
    CHECK_FALSE(*void_done);

    std::optional<std::exception_ptr> second;
    answer.async_wait([&](std::exception_ptr e, int) { second = e; });
    io.restart();
    io.run();
    REQUIRE(second);
    CHECK(error_of<sa::async_task_exception>(*second) == sa::async_task_error::result_taken);
}

TEST_CASE("tokens: async_task with deferred", "[tokens][async_task]") {
    asio::io_context io;
    auto answer = sa::async_task<int>::run(io.get_executor(), {},
                                           []() -> asio::awaitable<int> { co_return 21; });
    auto early_wait = answer.async_wait(sa::detail::deferred);
    auto doubled = answer.async_wait(sa::detail::deferred)(sa::detail::deferred(
        [](std::exception_ptr e, int v) { return sa::detail::deferred.values(e, 2 * v); }));

    std::optional<std::pair<std::exception_ptr, int>> got;
    std::move(doubled)([&](std::exception_ptr e, int v) { got.emplace(e, v); });
    io.run();
    REQUIRE(got);
    CHECK_FALSE(got->first);
    CHECK(got->second == 42);

    std::optional<std::exception_ptr> taken;
    std::move(early_wait)([&](std::exception_ptr e, int) { taken = e; });
    io.restart();
    io.run();
    REQUIRE(taken);
    CHECK(error_of<sa::async_task_exception>(*taken) == sa::async_task_error::result_taken);
}

TEST_CASE("tokens: async_task handlers bound to a strand run on it", "[tokens][async_task]") {
    asio::thread_pool pool(2);
    auto strand = asio::make_strand(pool);
    auto task = sa::async_task<int>::run(pool.get_executor(), {},
                                         []() -> asio::awaitable<int> { co_return 42; });
    std::promise<std::pair<bool, int>> waited;
    task.async_wait(asio::bind_executor(strand, [&](std::exception_ptr e, int v) {
        waited.set_value({!e && strand.running_in_this_thread(), v});
    }));
    CHECK(waited.get_future().get() == std::pair(true, 42));
}

TEST_CASE("tokens: a cancelled async_task::async_wait leaves the work running",
          "[tokens][async_task][cancellation]") {
    asio::io_context io;
    auto task = sa::async_task<>::run(io.get_executor(), {}, wait_an_hour);
    asio::cancellation_signal signal;

    std::optional<std::exception_ptr> cancelled;
    task.async_wait(
        asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { cancelled = e; }));
    io.poll();
    CHECK_FALSE(cancelled);
    signal.emit(asio::cancellation_type::terminal);
    while (!cancelled && io.run_one() != 0) {
    }
    REQUIRE(cancelled);
    CHECK(error_of<sweet_async::system_error>(*cancelled) == asio::error::operation_aborted);
    CHECK(task.status() == sa::task_status::running);

    task.cancel();
    std::optional<std::exception_ptr> ended;
    task.async_wait([&](std::exception_ptr e) { ended = e; });
    io.run();
    REQUIRE(ended);
    CHECK(error_of<sa::async_task_exception>(*ended) == sa::async_task_error::cancelled);
    CHECK(task.status() == sa::task_status::cancelled);
}

// ----- executors ------------------------------------------------------------------------------

// A handler on another executor may be what lets its caller destroy the
// task's context (a thread blocked on use_future does, while the handler's
// thread goes on): by the time the handler runs, the operation must have let
// go of the task's state, which holds strands of that context. The state's
// options hold a token that tells whether it is still there.
TEST_CASE("tokens: a handler on another executor runs after the task's state is released",
          "[tokens][lifetime]") {
    asio::io_context io;
    asio::io_context elsewhere;
    auto token = std::make_shared<int>(0);
    const std::weak_ptr<int> state_alive = token;
    auto holds_token = [token = std::move(token)](const sa::trace_record&) {};

    SECTION("async_task::async_wait") {
        std::optional<int> value;
        bool state_released = false;
        {
            sa::task_options options;
            options.trace_to = std::move(holds_token);
            auto task = sa::async_task<int>::run(io.get_executor(), std::move(options),
                                                 []() -> asio::awaitable<int> { co_return 42; });
            task.async_wait(asio::bind_executor(elsewhere, [&](std::exception_ptr e, int v) {
                CHECK_FALSE(e);
                value = v;
                state_released = state_alive.expired();
            }));
        }  // the handle goes: the operation holds the last reference
        io.run();
        CHECK_FALSE(state_alive.expired());
        REQUIRE(elsewhere.run() == 1);
        CHECK(value == 42);
        CHECK(state_released);
    }

    SECTION("emitting task: async_send_final, then async_wait") {
        std::optional<sweet_async::error_code> sent;
        std::optional<int> sum;
        bool state_released = false;
        {
            auto task = sa::emitting_builder<int>(io.get_executor())
                            .tracing(std::move(holds_token))
                            .tracing(false)
                            .receiver(sa::serial{}, twice)
                            .start_queue();
            task.async_send_final(21, asio::bind_executor(elsewhere, [&](sweet_async::error_code ec,
                                                                         sa::uuid) { sent = ec; }));
            task.async_wait(
                asio::bind_executor(elsewhere, [&](std::exception_ptr e, doubling_result r) {
                    CHECK_FALSE(e);
                    sum = sum_of(r);
                    state_released = state_alive.expired();
                }));
        }
        io.run();
        CHECK_FALSE(state_alive.expired());
        REQUIRE(elsewhere.run() == 2);
        CHECK(sent == sweet_async::error_code());
        CHECK(sum == 42);
        CHECK(state_released);
    }
}

TEST_CASE("tokens: every executor kind serves plain threads", "[tokens][executors]") {
    SECTION("io_context") {
        threaded_io context;
        exercise_from_plain_thread(context.io.get_executor());
    }
    SECTION("strand of an io_context") {
        threaded_io context;
        exercise_from_plain_thread(asio::make_strand(context.io));
    }
    SECTION("thread_pool") {
        asio::thread_pool pool(2);
        exercise_from_plain_thread(pool.get_executor());
    }
    SECTION("strand of a thread_pool") {
        asio::thread_pool pool(2);
        exercise_from_plain_thread(asio::make_strand(pool));
    }
    SECTION("any_io_executor") {
        asio::thread_pool pool(2);
        const asio::any_io_executor executor = pool.get_executor();
        exercise_from_plain_thread(executor);
    }
}
