// The stream processor: one coroutine pulls the task's events and gives each one its outcome;
// retries re-deliver, stops interrupt, and nothing it leaves behind goes unaccounted.
#include <sweet_async/sweet_async.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
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
using test_support::count_errors;
using test_support::run;

namespace {

using int_stream = sa::event_stream<int, int>;

/// Sends 1..`count` to `task`, then closes it, and returns its final result.
template <class Task>
asio::awaitable<typename Task::result_type> send_range(Task& task, int count) {
    for (int i = 1; i <= count; ++i)
        co_await task.send(i);
    task.close();
    co_return co_await task.wait();
}

/// Waits `delay` on the current executor.
asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration delay) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("stream processor: every pulled event completes under its id, in arrival order",
          "[stream]") {
    asio::io_context io;
    std::vector<std::uint64_t> sequences;
    auto task =
        sa::emitting_builder<std::string>(io)
            .stream_processor(
                [&](sa::event_stream<std::string, std::size_t>& stream) -> asio::awaitable<void> {
                    while (auto e = co_await stream.next()) {
                        sequences.push_back(e->sequence());
                        CHECK(e->attempt() == 1u);
                        e->complete(e->payload().size());
                    }
                })
            .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send("a");
        co_await task.send("bb");
        co_await task.send_final("dddd");
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().sent == 3);
    CHECK(result.stats().processed == 3);
    check_accounting(result);
    CHECK(sequences == std::vector<std::uint64_t>{0, 1, 2});
    REQUIRE(result.final_event());
    CHECK(result.final_event()->payload() == "dddd");
    REQUIRE(result.final_event()->completed());
    CHECK(*result.collection().get(result.final_event()->id()) == 4);
    CHECK(result.strategy_report().current == "stream_processor");
}

TEST_CASE("stream processor: a window's events complete without a result but the last",
          "[stream]") {
    asio::io_context io;
    // Sums of windows of three: the last event of a window carries the sum.
    auto task = sa::emitting_builder<int>(io)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        int sum = 0;
                        int in_window = 0;
                        while (auto e = co_await stream.next()) {
                            sum += e->payload();
                            if (++in_window == 3) {
                                e->complete(std::exchange(sum, 0));
                                in_window = 0;
                            } else {
                                e->complete_without_result();
                            }
                        }
                    })
                    .collector(sa::fold_collector{
                        0, [](int& total, int window) { total = total * 1000 + window; }})
                    .start_queue();
    auto result = run(io, [&] { return send_range(task, 9); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 9);
    CHECK(result.stats().balanced());
    CHECK(result.collection().aggregate() == 6'015'024);  // windows 6, 15, 24
    CHECK(result.collection().size() == 3);
}

TEST_CASE("stream processor: the result type is named when the processor is generic", "[stream]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .stream_processor<long>([](auto& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next())
                            e->complete(e->payload() * 10L);
                    })
                    .start_queue();
    auto result = run(io, [&] { return send_range(task, 3); });
    static_assert(
        std::is_same_v<decltype(task)::result_type::collection_type, sa::keyed_collection<long>>);
    CHECK(result.stats().processed == 3);
    long total = 0;
    for (const auto& entry : result.collection())
        total += entry.value;
    CHECK(total == 60);
}

TEST_CASE("stream processor: without results, complete() collects one entry per event",
          "[stream]") {
    asio::io_context io;
    int seen = 0;
    auto task = sa::emitting_builder<int>(io)
                    .stream_processor([&](sa::event_stream<int>& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            seen += e->payload();
                            e->complete();
                        }
                    })
                    .start_queue();
    auto result = run(io, [&] { return send_range(task, 4); });
    CHECK(seen == 10);
    check_accounting(result);
    CHECK(result.collection().size() == 4);
}

TEST_CASE("stream processor: a failed event is pulled again after the backoff, while retries last",
          "[stream][retry]") {
    asio::io_context io;
    std::vector<std::pair<int, unsigned>> pulls;
    std::vector<std::chrono::steady_clock::time_point> pulled_at;
    auto task =
        sa::emitting_builder<int>(io)
            .retry(2, sa::backoff{.initial = 5ms})
            .stream_processor([&](int_stream& stream) -> asio::awaitable<void> {
                while (auto e = co_await stream.next()) {
                    pulls.emplace_back(e->payload(), e->attempt());
                    if (e->payload() == 2) pulled_at.push_back(std::chrono::steady_clock::now());
                    // 2 fails twice then succeeds; 3 always fails.
                    if ((e->payload() == 2 && e->attempt() < 3) || e->payload() == 3) {
                        e->fail(fmt::format("no {} on attempt {}", e->payload(), e->attempt()));
                    } else {
                        e->complete(e->payload());
                    }
                }
            })
            .start_queue();
    auto result = run(io, [&] { return send_range(task, 3); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 2);
    CHECK(result.stats().failed == 1);
    CHECK(result.stats().retries == 4);
    check_accounting(result);
    REQUIRE(result.errors().size() == 1);
    CHECK(result.errors()[0].message == "no 3 on attempt 3");
    CHECK(result.errors()[0].attempts == 3);
    CHECK(result.errors()[0].sequence == 2);
    // Every retry is pulled after the others were, once its backoff has passed.
    REQUIRE(pulled_at.size() == 3);
    CHECK(pulled_at[1] - pulled_at[0] >= 5ms);
    CHECK(pulled_at[2] - pulled_at[1] >= 10ms);
    CHECK(pulls.size() == 7);  // 1 once, 2 and 3 three times each
    CHECK(pulls.front() == std::pair{1, 1u});
}

TEST_CASE("stream processor: an event released without an outcome ends failed, never lost",
          "[stream]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            if (e->payload() % 2 == 0) continue;  // forgets the even ones
                            e->complete(e->payload());
                        }
                    })
                    .start_queue();
    auto result = run(io, [&] { return send_range(task, 5); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 3);
    CHECK(result.stats().failed == 2);
    check_accounting(result);
    CHECK(count_errors(result, sa::outcome::failed, "released it without an outcome") == 2);
}

TEST_CASE("stream processor: returning early cancels what it never pulled, with the reason",
          "[stream]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(16)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        for (int taken = 0; taken < 3; ++taken) {
                            auto e = co_await stream.next();
                            if (!e) co_return;
                            e->complete(e->payload());
                        }
                    })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 1; i <= 10; ++i)
            CHECK_FALSE(task.try_send(i));  // all fit, none refused
        co_return co_await task.wait();     // not closed: the early return ends the stream
    });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 3);
    CHECK(result.stats().cancelled == 7);
    check_accounting(result);
    CHECK(count_errors(result, sa::outcome::cancelled,
                       "the stream processor returned before the stream ended") == 7);
    CHECK(task.try_send(11) == sa::async_task_error::closed);
}

TEST_CASE("stream processor: an exception fails the task and the events it held, with its message",
          "[stream]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(16)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        auto first = co_await stream.next();
                        first->complete(1);
                        auto held = co_await stream.next();
                        throw std::runtime_error("lookup service down");
                    })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 1; i <= 5; ++i)
            co_await task.send(i);
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::failed);
    CHECK(result.stats().processed == 1);
    CHECK(result.stats().failed == 1);
    CHECK(result.stats().cancelled == 3);
    check_accounting(result);
    CHECK(count_errors(result, sa::outcome::failed,
                       "the stream processor threw: lookup service down") == 1);
    CHECK(count_errors(result, sa::outcome::cancelled,
                       "the stream processor stopped: it threw: lookup service down") == 3);
}

TEST_CASE("stream processor: cancel(immediate) interrupts it mid-wait and cancels the rest",
          "[stream][cancel]") {
    asio::io_context io;
    std::atomic<bool> waiting{false};
    auto task = sa::emitting_builder<int>(io)
                    .capacity(16)
                    .stream_processor([&](int_stream& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            if (e->payload() == 2) {
                                waiting = true;
                                co_await sleep_for(1h);  // interrupted
                            }
                            e->complete(e->payload());
                        }
                    })
                    .start_queue();
    const auto start = std::chrono::steady_clock::now();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 1; i <= 6; ++i)
            co_await task.send(i);
        while (!waiting)
            co_await sleep_for(1ms);
        task.cancel(sa::cancellation_level::immediate);
        co_return co_await task.wait();
    });
    CHECK(std::chrono::steady_clock::now() - start < 30min);
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().processed == 1);
    CHECK(result.stats().cancelled == 5);
    check_accounting(result);
    CHECK(count_errors(result, sa::outcome::cancelled,
                       "interrupted: the task was cancelled (immediate)") == 1);
    CHECK(count_errors(result, sa::outcome::cancelled,
                       "the task stopped before it was processed") == 4);
}

TEST_CASE("stream processor: the task's deadline ends it timed out", "[stream][deadline]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .timeout(20ms)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            co_await sleep_for(1h);
                            e->complete(e->payload());
                        }
                    })
                    .start_queue();
    auto result = run(io, [&] { return send_range(task, 3); });
    CHECK(result.status() == sa::task_status::timed_out);
    CHECK(result.stats().cancelled == 3);
    check_accounting(result);
    CHECK(count_errors(result, sa::outcome::cancelled, "interrupted: the task's deadline passed") ==
          1);
}

TEST_CASE("stream processor: cancel(graceful) lets it finish what was queued", "[stream][cancel]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(16)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            co_await sleep_for(1ms);
                            e->complete(e->payload());
                        }
                    })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 1; i <= 5; ++i)
            co_await task.send(i);
        task.cancel(sa::cancellation_level::graceful);
        CHECK(task.try_send(6) == sa::async_task_error::closed);
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().processed == 5);
    check_accounting(result);
}

TEST_CASE("stream processor: a pulled event refuses to be used after its outcome", "[stream]") {
    asio::io_context io;
    bool refused = false;
    auto task = sa::emitting_builder<int>(io)
                    .stream_processor([&](int_stream& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            e->complete(1);
                            CHECK_FALSE(e->pending());
                            try {
                                e->complete(2);
                            } catch (const std::logic_error& ex) {
                                refused = std::string_view(ex.what()).find("after its outcome") !=
                                          std::string_view::npos;
                            }
                        }
                    })
                    .start_queue();
    auto result = run(io, [&] { return send_range(task, 1); });
    CHECK(refused);
    CHECK(result.stats().processed == 1);
    check_accounting(result);
}

TEST_CASE("stream processor: events pulled and moved on are settled before the task ends",
          "[stream]") {
    asio::io_context io;
    // The processor hands each event to a coroutine of its own on the same strand, which
    // completes it later: the task waits for them all.
    auto task = sa::emitting_builder<int>(io)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        auto executor = co_await asio::this_coro::executor;
                        while (auto e = co_await stream.next()) {
                            asio::co_spawn(
                                executor,
                                [](int_stream::pulled_type e) -> asio::awaitable<void> {
                                    co_await sleep_for(std::chrono::milliseconds(e.payload()));
                                    e.complete(e.payload());
                                }(std::move(*e)),
                                asio::detached);
                        }
                    })
                    .start_queue();
    auto result = run(io, [&] { return send_range(task, 5); });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 5);
    check_accounting(result);
}

TEST_CASE("stream processor: producers on several threads, every event accounted for",
          "[stream][threads]") {
    asio::thread_pool pool(2);
    constexpr int producers = 4;
    constexpr int per_producer = 2000;
    auto task = sa::emitting_builder<int>(pool)
                    .capacity(32)
                    .stream_processor([](int_stream& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            if (e->payload() % 7 == 0) {
                                e->fail("multiple of seven");
                            } else {
                                e->complete(e->payload());
                            }
                        }
                    })
                    .start_queue();
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&task, p] {
            for (int i = 0; i < per_producer; ++i) {
                asio::co_spawn(task.get_executor(), task.send(p * per_producer + i),
                               asio::use_future)
                    .get();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    task.close();
    auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
    constexpr int total = producers * per_producer;
    int sevens = 0;
    for (int i = 0; i < total; ++i)
        sevens += i % 7 == 0 ? 1 : 0;
    CHECK(result.stats().sent == total);
    CHECK(result.stats().failed == static_cast<std::size_t>(sevens));
    CHECK(result.stats().processed == static_cast<std::size_t>(total - sevens));
    check_accounting(result);
}

TEST_CASE("stream processor: its context destroyed mid-stream, the handle still answers",
          "[stream][lifetime]") {
    auto io = std::make_unique<asio::io_context>();
    std::atomic<int> pulled{0};
    auto task = sa::emitting_builder<int>(*io)
                    .stream_processor([&](int_stream& stream) -> asio::awaitable<void> {
                        while (auto e = co_await stream.next()) {
                            ++pulled;
                            co_await sleep_for(1h);  // holds the event when the context goes
                            e->complete(e->payload());
                        }
                    })
                    .start_queue();
    CHECK_FALSE(task.try_send(1));
    CHECK_FALSE(task.try_send(2));
    while (pulled.load() == 0)
        io->run_one();
    io.reset();  // destroys the suspended stream processor, the event it held, the consumer
    CHECK(task.status() == sa::task_status::cancelled);
    CHECK(task.stats().sent == 2);
    CHECK(task.stats().balanced());
}
