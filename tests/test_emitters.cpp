// Emitters the task runs: coroutines that produce the task's events through a sender. The stream
// ends when the last returns; a throw ends it and is the task's failure; stops interrupt them.
#include <sweet_async/sweet_async.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
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

/// Sends `first`..`last` through `to`.
asio::awaitable<void> send_range(sa::sender<int>& to, int first, int last) {
    for (int i = first; i <= last; ++i)
        co_await to.send(i);
}

/// Waits far longer than any test runs: only an interruption ends it. Counts
/// in `interrupted` the waits that ended aborted.
asio::awaitable<void> wait_an_hour(std::atomic<int>& interrupted) {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    try {
        co_await timer.async_wait(asio::use_awaitable);
    } catch (const sweet_async::system_error& e) {
        if (e.code() == asio::error::operation_aborted) ++interrupted;
        throw;
    }
}

sa::fold_collector<std::int64_t, std::plus<>> summing() {
    return {std::int64_t{0}, std::plus<>{}};
}

/// A strategy that throws before it takes any event.
struct broken {
    std::string_view name() const { return "broken"; }
    void validate(const sa::task_options&) const {}
    template <class Receiver>
    asio::awaitable<void> run(Receiver&) const {
        throw std::runtime_error("no plan");
        co_return;
    }
};

}  // namespace

TEST_CASE("emitters: two on a pool feed one task, which ends when the last returns", "[emitter]") {
    asio::thread_pool pool(2);
    auto task = sa::emitting_builder<int>(pool)
                    .capacity(8)
                    .emitter([](sa::sender<int>& to) { return send_range(to, 1, 500); })
                    .emitter([](sa::sender<int>& to) { return send_range(to, 501, 1000); })
                    .receiver(sa::serial{}, [](int x) { return std::int64_t{x}; })
                    .collector(summing())
                    .start_queue();
    const auto result = task.async_wait(asio::use_future).get();
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.failure().empty());
    CHECK(result.result() == 500500);
    CHECK(result.stats().sent == 1000);
    CHECK(result.stats().processed == 1000);
    CHECK(result.stats().balanced());
}

TEST_CASE("emitters: producers outside still send while an emitter runs", "[emitter]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .emitter([](sa::sender<int>& to) -> asio::awaitable<void> {
                        co_await send_range(to, 1, 10);
                        // Another producer's events get in before the emitter returns.
                        asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
                        co_await timer.async_wait(asio::use_awaitable);
                    })
                    .receiver(sa::serial{}, [](int x) { return x; })
                    .start_queue();
    auto outside = task.get_sender();
    const auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 100; i < 105; ++i)
            co_await outside.send(i);
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 15);
    check_accounting(result);
    CHECK(outside.is_closed());
    CHECK(outside.try_send(1) == sa::async_task_error::closed);
}

TEST_CASE("emitters: a throw ends the stream, interrupts the others and is the task's failure",
          "[emitter]") {
    asio::io_context io;
    std::atomic<int> interrupted{0};
    auto task = sa::emitting_builder<int>(io)
                    .name("ingest")
                    .emitter([&](sa::sender<int>&) { return wait_an_hour(interrupted); })
                    .emitter([](sa::sender<int>& to) -> asio::awaitable<void> {
                        co_await send_range(to, 1, 10);
                        throw std::runtime_error("disk gone");
                    })
                    .receiver(sa::serial{}, [](int x) { return x; })
                    .start_queue();
    const auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::failed);
    CHECK(result.failure() == "emitter 2 of 2 threw: disk gone");
    CHECK(interrupted == 1);
    // What the emitter sent before it threw was accepted, so it is processed.
    CHECK(result.stats().sent == 10);
    CHECK(result.stats().processed == 10);
    check_accounting(result);
    CHECK(fmt::format("{}", result)
              .starts_with(
                  "task 'ingest' failed (emitter 2 of 2 threw: disk gone): sent=10 processed=10"));
}

TEST_CASE("emitters: a graceful cancel interrupts them and finishes what they sent", "[emitter]") {
    asio::io_context io;
    std::atomic<int> interrupted{0};
    auto task = sa::emitting_builder<int>(io)
                    .emitter([&](sa::sender<int>& to) -> asio::awaitable<void> {
                        co_await send_range(to, 1, 5);
                        co_await wait_an_hour(interrupted);
                    })
                    .receiver(sa::serial{}, [](int x) { return x; })
                    .start_queue();
    const auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        while (task.stats().processed < 5) {
            asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
        task.cancel();
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.failure().empty());
    CHECK(interrupted == 1);
    CHECK(result.stats().processed == 5);
    check_accounting(result);
}

TEST_CASE("emitters: cancel(immediate) reaches one parked on a full channel", "[emitter]") {
    asio::io_context io;
    std::atomic<int> sent_by_emitter{0};
    auto task = sa::emitting_builder<int>(io)
                    .capacity(2)
                    .emitter([&](sa::sender<int>& to) -> asio::awaitable<void> {
                        for (int i = 0;; ++i) {
                            co_await to.send(i);
                            ++sent_by_emitter;
                        }
                    })
                    .receiver(sa::serial{},
                              [](int x) -> asio::awaitable<int> {
                                  asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
                                  co_await timer.async_wait(asio::use_awaitable);
                                  co_return x;
                              })
                    .start_queue();
    const auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        // The processor holds one event, the channel two; the emitter then waits for room.
        while (sent_by_emitter < 3) {
            asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
        task.cancel(sa::cancellation_level::immediate);
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.failure().empty());
    CHECK(result.stats().sent == 3);
    CHECK(result.stats().cancelled == 3);
    check_accounting(result);
}

TEST_CASE("emitters: the task's deadline stops one that never returns", "[emitter]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .timeout(30ms)
                    .emitter([](sa::sender<int>& to) -> asio::awaitable<void> {
                        for (int i = 0;; ++i) {
                            co_await to.send(i);
                            asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
                            co_await timer.async_wait(asio::use_awaitable);
                        }
                    })
                    .receiver(sa::serial{}, [](int x) { return x; })
                    .start_queue();
    const auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::timed_out);
    CHECK(result.failure().empty());
    CHECK(result.stats().sent >= 1);
    check_accounting(result);
}

TEST_CASE("emitters: a final event from one ends the stream, and the sends of the others end them",
          "[emitter]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(4)
                    .emitter([](sa::sender<int>& to) -> asio::awaitable<void> {
                        co_await send_range(to, 1, 3);
                        co_await to.send_final(4);
                    })
                    .emitter([](sa::sender<int>& to) -> asio::awaitable<void> {
                        for (;;)
                            co_await to.send(0);  // throws `closed` once the stream has ended
                    })
                    .receiver(sa::serial{}, [](int x) { return x; })
                    .start_queue();
    const auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.failure().empty());
    REQUIRE(result.final_event().has_value());
    CHECK(result.final_event()->payload() == 4);
    check_accounting(result);
}

TEST_CASE("emitters: a stop before the task's consumer ran means they never start", "[emitter]") {
    asio::io_context io;
    std::atomic<int> started{0};
    auto task = sa::emitting_builder<int>(io)
                    .emitter([&](sa::sender<int>& to) -> asio::awaitable<void> {
                        ++started;
                        co_await to.send(1);
                    })
                    .receiver(sa::serial{}, [](int x) { return x; })
                    .start_queue();
    task.cancel();
    const auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(started == 0);
    CHECK(result.stats().sent == 0);
}

TEST_CASE("emitters: a stream processor's task runs them too", "[emitter][stream]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io)
            .emitter([](sa::sender<int>& to) { return send_range(to, 1, 20); })
            .stream_processor([](sa::event_stream<int, int>& stream) -> asio::awaitable<void> {
                while (auto e = co_await stream.next())
                    e->complete(e->payload() * 2);
            })
            .start_queue();
    const auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 20);
    check_accounting(result);
}

TEST_CASE("emitters: a stream processor's task fails with its emitter", "[emitter][stream]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io)
            .emitter([](sa::sender<int>& to) -> asio::awaitable<void> {
                co_await to.send(1);
                throw std::runtime_error("feed lost");
            })
            .stream_processor([](sa::event_stream<int, int>& stream) -> asio::awaitable<void> {
                while (auto e = co_await stream.next())
                    e->complete(e->payload());
            })
            .start_queue();
    const auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::failed);
    CHECK(result.failure() == "emitter 1 of 1 threw: feed lost");
    CHECK(result.stats().processed == 1);
    check_accounting(result);
}

TEST_CASE("final result: the failure names what threw", "[emitter]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io).receiver(broken{}, [](int x) { return x; }).start_queue();
    CHECK(task.try_send(1) == sweet_async::error_code());
    const auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::failed);
    CHECK(result.failure() == "the strategy threw: no plan");
    CHECK(result.stats().cancelled == 1);
    check_accounting(result);
}
