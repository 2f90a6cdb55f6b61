// What happens when a task handle, or the execution context a task runs on,
// goes away while events are in flight. Every test asserts exact outcomes and
// relies on the sanitizers (ASan/LSan, UBSan, TSan) for "nothing touched a
// destroyed context, nothing leaked".
#include <sweet_async/sweet_async.hpp>

#include <atomic>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <sweet_async/base/detail/task_registry.hpp>
#include <sweet_async/task/async_task.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::run;

namespace {

/// Counts its own destruction: put one in a coroutine frame to see that the
/// frame was destroyed.
struct frame_probe {
    std::atomic<int>& destroyed;
    ~frame_probe() { destroyed.fetch_add(1, std::memory_order_relaxed); }
};

asio::awaitable<void> wait_forever() {
    asio::steady_timer timer(co_await asio::this_coro::executor, 24h);
    co_await timer.async_wait(asio::use_awaitable);
}

/// Runs `io` on this thread until `done()` holds.
template <class Predicate>
void run_until(asio::io_context& io, Predicate done) {
    io.restart();
    while (!done() && io.run_one() != 0) {
    }
    REQUIRE(done());
}

/// Spins (yielding) until another thread made `done()` hold.
template <class Predicate>
void await_condition(Predicate done) {
    while (!done())
        std::this_thread::yield();
}

/// A coroutine processor that never finishes: it counts its starts and the
/// destruction of its frames.
struct stuck_processor {
    std::atomic<int>& started;
    std::atomic<int>& destroyed;

    asio::awaitable<int> operator()(int value) const {
        frame_probe probe{destroyed};
        started.fetch_add(1, std::memory_order_relaxed);
        co_await wait_forever();
        co_return value;
    }
};

/// The accounting of a task abandoned with none of its `sent` events finished.
template <class Task>
void check_all_cancelled(const Task& task, std::size_t sent) {
    const auto stats = task.stats();
    CHECK(stats.sent == sent);
    CHECK(stats.processed == 0);
    CHECK(stats.cancelled == sent);
    CHECK(stats.balanced());
}

/// Runs `make()` (an awaitable) on `io` and returns the code of the
/// `sweet_async::system_error` it throws, or an empty code when it does not throw.
template <class MakeAwaitable>
sweet_async::error_code error_of(asio::io_context& io, MakeAwaitable make) {
    sweet_async::error_code code;
    run(io, [&]() -> asio::awaitable<void> {
        try {
            co_await make();
        } catch (const sweet_async::system_error& e) {
            code = e.code();
        }
    });
    return code;
}

/// Starts `task.wait()` on `io`, where it parks until the task ends;
/// `outcome` then holds an empty code, or the code it threw (and `message`,
/// when given, its `what()`).
template <class Task>
void start_wait(asio::io_context& io, Task& task, std::optional<sweet_async::error_code>& outcome,
                std::string* message = nullptr) {
    asio::co_spawn(
        io,
        [&task, &outcome, message]() -> asio::awaitable<void> {
            try {
                co_await task.wait();
                outcome.emplace();
            } catch (const sa::async_task_exception& e) {
                outcome = e.code();
                if (message) *message = e.what();
            }
        },
        asio::detached);
}

}  // namespace

TEST_CASE("lifetime: io_context destroyed with events queued and a coroutine processor suspended",
          "[lifetime]") {
    std::atomic<int> started{0};
    std::atomic<int> destroyed{0};
    auto io = std::make_unique<asio::io_context>();
    std::optional task = sa::emitting_builder<int>(*io)
                             .name("orphan")
                             .receiver(sa::serial{}, stuck_processor{started, destroyed})
                             .start_queue();
    for (int i = 0; i < 5; ++i)
        REQUIRE_FALSE(task->try_send(i));

    SECTION("the handle outlives the context") {
        run_until(*io, [&] { return started.load() == 1; });
        io.reset();
        CHECK(destroyed.load() == 1);  // the suspended processor went with its context
        CHECK(task->status() == sa::task_status::cancelled);
        CHECK_FALSE(task->is_complete());
        const auto stats = task->stats();
        CHECK(stats.sent == 5);
        CHECK(stats.processed == 0);
        CHECK(stats.cancelled == 5);  // one in flight, four queued: none has an outcome
        CHECK(stats.balanced());
        task.reset();
    }
    SECTION("the handle goes first") {
        run_until(*io, [&] { return started.load() == 1; });
        task.reset();  // closes the task; the consumer still holds it
        io.reset();
        CHECK(destroyed.load() == 1);
    }
    SECTION("the context never ran") {
        io.reset();
        CHECK(started.load() == 0);
        CHECK(task->status() == sa::task_status::cancelled);
        CHECK(task->stats().cancelled == 5);
    }
}

TEST_CASE("lifetime: a sender of another io_context parked on a full channel gets closed",
          "[lifetime]") {
    std::atomic<int> started{0};
    std::atomic<int> destroyed{0};
    auto io = std::make_unique<asio::io_context>();
    asio::io_context producers;
    std::optional task = sa::emitting_builder<int>(*io)
                             .capacity(1)
                             .receiver(sa::serial{}, stuck_processor{started, destroyed})
                             .start_queue();
    REQUIRE_FALSE(task->try_send(1));
    run_until(*io, [&] { return started.load() == 1; });  // event 1 in flight
    REQUIRE_FALSE(task->try_send(2));                     // event 2 fills the channel
    REQUIRE(task->try_send(3) == sa::async_task_error::full);

    std::optional<sweet_async::error_code> sent;
    const bool producer_holds_the_last_handle = GENERATE(false, true);
    asio::co_spawn(
        producers,
        [&sent, handle = *task]() mutable -> asio::awaitable<void> {
            try {
                co_await handle.send(3);
                sent.emplace();
            } catch (const sa::async_task_exception& e) {
                sent = e.code();
            }
        },
        asio::detached);
    producers.poll();  // the producer parks: the channel is full
    REQUIRE_FALSE(sent);
    if (producer_holds_the_last_handle) task.reset();

    io.reset();
    producers.run();  // returns once the producer is done: it keeps no work on the dead context
    REQUIRE(sent);
    CHECK(*sent == sa::async_task_error::closed);
    CHECK(destroyed.load() == 1);
    if (task) {
        CHECK(task->stats().sent == 2);
        CHECK(task->stats().cancelled == 2);
        CHECK(task->stats().balanced());
    }
}

TEST_CASE("lifetime: a wait() of another io_context ends with abandoned", "[lifetime]") {
    auto io = std::make_unique<asio::io_context>();
    asio::io_context waiters;
    auto task = sa::emitting_builder<int>(*io)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    REQUIRE_FALSE(task.try_send(1));
    io->poll();  // event 1 processed; the task stays open
    REQUIRE(task.stats().processed == 1);

    std::optional<sweet_async::error_code> waited;
    std::string message;
    start_wait(waiters, task, waited, &message);
    waiters.poll();  // the wait parks
    REQUIRE_FALSE(waited);

    io.reset();
    waiters.run();
    REQUIRE(waited);
    CHECK(*waited == sa::async_task_error::abandoned);
    CHECK(message == "task 'task': the execution context running the task was destroyed "
                     "before the task finished");
    CHECK(task.status() == sa::task_status::cancelled);
    const auto stats = task.stats();
    CHECK(stats.sent == 1);
    CHECK(stats.processed == 1);
    CHECK(stats.cancelled == 0);
    CHECK(stats.balanced());

    // A wait() started now fails at once, the same way; so does send().
    CHECK(error_of(waiters, [&] { return task.wait(); }) == sa::async_task_error::abandoned);
    CHECK(error_of(waiters, [&] { return task.send(2); }) == sa::async_task_error::closed);
}

TEST_CASE("lifetime: a task that finished before its context still hands out its result",
          "[lifetime]") {
    auto io = std::make_unique<asio::io_context>();
    asio::io_context waiters;
    auto task = sa::emitting_builder<int>(*io)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    REQUIRE_FALSE(task.try_send_final(7));
    io->run();
    REQUIRE(task.is_complete());
    io.reset();
    CHECK(task.status() == sa::task_status::completed);
    auto result = run(waiters, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 1);
}

TEST_CASE("lifetime: a handle that outlives its context keeps well-defined non-async members",
          "[lifetime]") {
    std::atomic<int> started{0};
    std::atomic<int> destroyed{0};
    auto io = std::make_unique<asio::io_context>();
    // The whole-task timeout arms a timer of the dead context; it must be
    // gone with the context, not with the handle.
    auto task = sa::emitting_builder<int>(*io)
                    .name("survivor")
                    .timeout(1h)
                    .capacity(4)
                    .receiver(sa::parallel{.workers = {1, 2}}, stuck_processor{started, destroyed})
                    .start_queue();
    for (int i = 0; i < 4; ++i)
        REQUIRE_FALSE(task.try_send(i));
    run_until(*io, [&] { return started.load() == 2; });
    io.reset();
    CHECK(destroyed.load() == 2);

    CHECK(task.try_send(9) == sa::async_task_error::closed);
    CHECK(task.try_send_final(9) == sa::async_task_error::closed);
    task.close();
    task.cancel(sa::cancellation_level::immediate);  // would interrupt processors: must not post
    task.cancel(sa::cancellation_level::graceful);
    CHECK(task.status() == sa::task_status::cancelled);
    CHECK_FALSE(task.is_complete());
    const auto first = task.stats();
    CHECK(first.sent == 4);
    CHECK(first.processed == 0);
    CHECK(first.cancelled == 4);
    CHECK(first.balanced());
    CHECK(task.stats().elapsed == first.elapsed);  // final: the task ended when abandoned
    CHECK(task.name() == "survivor");
    CHECK(task.strategy_report().current.find("parallel") != std::string::npos);
    auto copy = task;  // copies and their destruction are fine too
}

TEST_CASE("lifetime: thread_pool destroyed while parallel work is in flight", "[lifetime]") {
    auto pool = std::make_unique<asio::thread_pool>(2);
    asio::io_context waiters;

    SECTION("synchronous processors running, their outcomes not yet recorded") {
        std::atomic<int> entered{0};
        std::promise<void> gate;
        std::shared_future<void> opened = gate.get_future().share();
        auto task = sa::emitting_builder<int>(*pool)
                        .capacity(16)
                        .receiver(sa::parallel{.workers = {2, 2}},
                                  [&entered, opened](int v) {
                                      entered.fetch_add(1);
                                      opened.wait();
                                      return v;
                                  })
                        .start_queue();
        for (int i = 0; i < 10; ++i)
            REQUIRE_FALSE(task.try_send(i));
        await_condition([&] { return entered.load() == 2; });
        // Stopped first, so that the outcomes stay unrecorded (queued for the
        // consumer strand) when the pool goes. Each of the two workers holds
        // a run of the events that were ready when it started, and finishes
        // its run: how long each run is depends on how many sends the
        // consumer had seen.
        pool->stop();
        gate.set_value();
        pool.reset();
        CHECK(entered.load() >= 2);
        CHECK(entered.load() <= 10);
        CHECK(task.status() == sa::task_status::cancelled);
        check_all_cancelled(task, 10);
        CHECK(error_of(waiters, [&] { return task.wait(); }) == sa::async_task_error::abandoned);
    }
    SECTION("coroutine processors suspended, a wait() of another context parked") {
        std::atomic<int> started{0};
        std::atomic<int> destroyed{0};
        auto task =
            sa::emitting_builder<int>(*pool)
                .capacity(16)
                .receiver(sa::parallel{.workers = {1, 4}}, stuck_processor{started, destroyed})
                .start_queue();
        for (int i = 0; i < 10; ++i)
            REQUIRE_FALSE(task.try_send(i));
        std::optional<sweet_async::error_code> waited;
        start_wait(waiters, task, waited);
        waiters.poll();
        await_condition([&] { return started.load() == 4; });
        pool.reset();
        waiters.run();
        REQUIRE(waited);
        CHECK(*waited == sa::async_task_error::abandoned);
        CHECK(destroyed.load() == 4);
        check_all_cancelled(task, 10);
    }
}

// Offloaded work belongs to another context, which goes on after the task's
// own context is destroyed: it must own whatever it still touches, and hand
// nothing back to the context that is gone.
TEST_CASE("lifetime: the task's context destroyed while offloaded work runs", "[lifetime]") {
    asio::thread_pool pool(2);
    auto io = std::make_unique<asio::io_context>();
    asio::io_context waiters;

    SECTION("synchronous processors running on the offload pool") {
        std::atomic<int> entered{0};
        std::atomic<int> left{0};
        std::promise<void> gate;
        std::shared_future<void> opened = gate.get_future().share();
        auto task = sa::emitting_builder<int>(*io)
                        .capacity(16)
                        .receiver(sa::parallel{.workers = {2, 2}, .offload = pool.get_executor()},
                                  [&entered, &left, opened](int v) {
                                      entered.fetch_add(1);
                                      opened.wait();
                                      left.fetch_add(1);
                                      return v;
                                  })
                        .start_queue();
        for (int i = 0; i < 10; ++i)
            REQUIRE_FALSE(task.try_send(i));
        while (entered.load() < 2) {
            io->poll();
            std::this_thread::yield();
        }
        io.reset();  // both processors are still running
        CHECK(task.status() == sa::task_status::cancelled);
        gate.set_value();
        pool.join();
        CHECK(left.load() == entered.load());  // each worker finished the run it held
        check_all_cancelled(task, 10);
        CHECK(error_of(waiters, [&] { return task.wait(); }) == sa::async_task_error::abandoned);
    }
    SECTION("coroutine processors suspended on the offload pool") {
        std::atomic<int> started{0};
        std::atomic<int> resumed{0};
        // A concurrent channel, not a timer: the coroutines wait on it from different pool
        // threads at once, which one timer does not allow (TSan found the race).
        asio::experimental::concurrent_channel<void(sweet_async::error_code, int)> gate(pool);
        auto task = sa::emitting_builder<int>(*io)
                        .capacity(16)
                        .receiver(sa::parallel{.workers = {3, 3}, .offload = pool.get_executor()},
                                  [&](int v) -> asio::awaitable<int> {
                                      started.fetch_add(1);
                                      sweet_async::error_code opened;
                                      co_await gate.async_receive(
                                          asio::redirect_error(asio::use_awaitable, opened));
                                      resumed.fetch_add(1);
                                      co_return v;
                                  })
                        .start_queue();
        for (int i = 0; i < 10; ++i)
            REQUIRE_FALSE(task.try_send(i));
        while (started.load() < 3) {
            io->poll();
            std::this_thread::yield();
        }
        io.reset();  // three coroutines wait on the pool
        CHECK(task.status() == sa::task_status::cancelled);
        // Closed, not cancelled: a coroutine counted as started may not have reached its
        // receive yet, and a cancel ends only the receives already waiting (one stayed waiting
        // forever on Boost.Asio under ASan). After close, every receive ends with channel_closed.
        gate.close();
        await_condition([&] { return resumed.load() == 3; });
        pool.join();
        check_all_cancelled(task, 10);
    }
}

TEST_CASE("lifetime: tasks of one context feeding each other, all destroyed with it",
          "[lifetime]") {
    std::atomic<int> started{0};
    std::atomic<int> destroyed{0};
    auto io = std::make_unique<asio::io_context>();
    auto sink = sa::emitting_builder<int>(*io)
                    .capacity(1)
                    .receiver(sa::serial{}, stuck_processor{started, destroyed})
                    .start_queue();
    // The feeder's processor sends into the sink, whose channel fills up: the
    // feeder's consumer parks in the sink's channel.
    auto feeder = sa::emitting_builder<int>(*io)
                      .receiver(sa::serial{},
                                [&sink](int v) -> asio::awaitable<int> {
                                    co_await sink.send(v);
                                    co_return v;
                                })
                      .start_queue();
    for (int i = 0; i < 5; ++i)
        REQUIRE_FALSE(feeder.try_send(i));
    io->poll();
    REQUIRE(started.load() == 1);
    REQUIRE(sink.stats().sent == 2);  // one in flight, one queued; the feeder waits with the third
    io.reset();
    CHECK(destroyed.load() == 1);
    CHECK(sink.status() == sa::task_status::cancelled);
    CHECK(feeder.status() == sa::task_status::cancelled);
    CHECK(feeder.stats().processed == 2);
    CHECK(feeder.stats().cancelled == 3);
}

TEST_CASE("lifetime: async_task when its context is destroyed first", "[lifetime][async_task]") {
    auto io = std::make_unique<asio::io_context>();
    asio::io_context waiters;
    std::atomic<int> destroyed{0};
    sa::task_options options;
    options.name = "forever";
    auto task = sa::async_task<int>::run(io->get_executor(), options,
                                         [&destroyed]() -> asio::awaitable<int> {
                                             frame_probe probe{destroyed};
                                             co_await wait_forever();
                                             co_return 1;
                                         });

    SECTION("a parked wait() of another context throws abandoned") {
        std::optional<sweet_async::error_code> waited;
        start_wait(waiters, task, waited);
        waiters.poll();
        io->poll();  // the work starts and suspends
        REQUIRE_FALSE(waited);
        io.reset();
        CHECK(destroyed.load() == 1);
        waiters.run();
        REQUIRE(waited);
        CHECK(*waited == sa::async_task_error::abandoned);
    }
    SECTION("the handle outlives the context") {
        io->poll();
        io.reset();
        CHECK(destroyed.load() == 1);
        task.cancel();  // must not post to the dead strand
        CHECK(error_of(waiters, [&] { return task.wait(); }) == sa::async_task_error::abandoned);
    }
    SECTION("the context never ran") {
        io.reset();
        CHECK(destroyed.load() == 0);  // the work never started
    }
    CHECK(task.status() == sa::task_status::cancelled);
    CHECK_FALSE(task.is_complete());
}

TEST_CASE("lifetime: async_task that finished before its context hands out its value",
          "[lifetime][async_task]") {
    auto io = std::make_unique<asio::io_context>();
    asio::io_context waiters;
    auto task = sa::async_task<int>::run(io->get_executor(), {},
                                         []() -> asio::awaitable<int> { co_return 42; });
    io->run();
    io.reset();
    task.cancel();
    CHECK(task.status() == sa::task_status::completed);
    CHECK(run(waiters, [&] { return task.wait(); }) == 42);
}

TEST_CASE("lifetime: dropping the last handle with events queued and in flight processes them all",
          "[lifetime]") {
    asio::io_context io;
    auto seen = std::make_shared<std::vector<int>>();

    SECTION("serial, coroutine processor") {
        std::atomic<int> started{0};
        std::optional task =
            sa::emitting_builder<int>(io)
                .receiver(sa::serial{},
                          [seen, &started](int v) -> asio::awaitable<int> {
                              started.fetch_add(1);
                              asio::steady_timer tick(co_await asio::this_coro::executor, 100us);
                              co_await tick.async_wait(asio::use_awaitable);
                              seen->push_back(v);
                              co_return v;
                          })
                .start_queue();
        for (int i = 0; i < 20; ++i)
            REQUIRE_FALSE(task->try_send(i));
        run_until(io, [&] { return started.load() == 1; });  // event 0 in flight
        task.reset();
        io.run();  // returns once the consumer has finished
        std::vector<int> expected(20);
        for (int i = 0; i < 20; ++i)
            expected[static_cast<std::size_t>(i)] = i;
        CHECK(*seen == expected);
    }
    SECTION("parallel, only a wait() kept") {
        std::optional task =
            sa::emitting_builder<int>(io)
                .receiver(sa::parallel{.workers = {1, 4}},
                          [seen](int v) -> asio::awaitable<int> {
                              asio::steady_timer tick(co_await asio::this_coro::executor, 100us);
                              co_await tick.async_wait(asio::use_awaitable);
                              seen->push_back(v);
                              co_return v;
                          })
                .start_queue();
        for (int i = 0; i < 20; ++i)
            REQUIRE_FALSE(task->try_send(i));
        io.poll();  // some in flight
        auto waiting = task->wait();
        task.reset();
        auto result = run(io, [&] { return std::move(waiting); });
        CHECK(result.status() == sa::task_status::completed);
        CHECK(result.stats().processed == 20);
        CHECK(result.collection().size() == 20);
        test_support::check_accounting(result);
        CHECK(seen->size() == 20);
    }
    // Nothing but the test holds the processor's capture any more: the
    // consumer's frame, the receiver and the state are gone.
    CHECK(seen.use_count() == 1);
}

TEST_CASE("lifetime: a context destroyed while another thread keeps sending",
          "[lifetime][threads]") {
    auto io = std::make_unique<asio::io_context>();
    asio::io_context producers;
    auto task = sa::emitting_builder<int>(*io)
                    .capacity(8)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    std::atomic<std::size_t> accepted{0};
    std::optional<sweet_async::error_code> ended;
    asio::co_spawn(
        producers,
        [&]() -> asio::awaitable<void> {
            try {
                for (int i = 0;; ++i) {
                    co_await task.send(i);
                    accepted.fetch_add(1, std::memory_order_relaxed);
                }
            } catch (const sa::async_task_exception& e) {
                ended = e.code();
            }
        },
        asio::detached);
    std::thread producer_thread([&] { producers.run(); });
    std::thread consumer_thread([&] { io->run(); });
    await_condition([&] { return task.stats().processed >= 1000; });
    io->stop();
    consumer_thread.join();
    io.reset();  // the producer is sending or parked meanwhile
    producer_thread.join();
    REQUIRE(ended);
    CHECK(*ended == sa::async_task_error::closed);
    const auto stats = task.stats();
    CHECK(stats.sent == accepted.load());
    CHECK(stats.processed >= 1000);
    CHECK(stats.balanced());
    CHECK(task.status() == sa::task_status::cancelled);
}

TEST_CASE("lifetime: the registry purges finished tasks", "[lifetime]") {
    asio::io_context io;
    auto& registry = sa::detail::task_registry::of(io.get_executor());
    auto keeper =
        sa::emitting_builder<int>(io).receiver(sa::serial{}, [](int v) { return v; }).start_queue();
    for (int i = 0; i < 200; ++i) {
        auto task = sa::emitting_builder<int>(io)
                        .receiver(sa::serial{}, [](int v) { return v; })
                        .start_queue();
        REQUIRE_FALSE(task.try_send_final(i));
        run(io, [&] { return task.wait(); });
    }
    // Expired entries are dropped once the list reaches its purge mark, which
    // stays at twice the live tasks or 16.
    CHECK(registry.size() <= 16);
    keeper.close();
    run(io, [&] { return keeper.wait(); });
}

TEST_CASE("channel: a cancelled async_send completes with operation_aborted, value not sent",
          "[channel][lifetime]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 1);
    REQUIRE_FALSE(ch.try_send(1));
    asio::cancellation_signal signal;
    std::optional<sweet_async::error_code> result;
    ch.async_send(2, asio::bind_cancellation_slot(
                         signal.slot(), [&](sweet_async::error_code ec) { result = ec; }));
    io.poll();
    REQUIRE_FALSE(result);  // parked: the channel is full
    signal.emit(asio::cancellation_type::terminal);
    io.restart();
    io.run();
    REQUIRE(result);
    CHECK(*result == asio::error::operation_aborted);
    CHECK(ch.sent() == 1);
    CHECK(ch.try_receive() == 1);
    CHECK_FALSE(ch.try_receive());
}
