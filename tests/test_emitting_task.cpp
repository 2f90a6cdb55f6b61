#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
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

std::size_t length(const std::string& s) {
    return s.size();
}

/// A custom strategy that records the creation time of every event it receives.
struct reading_strategy {
    std::vector<sa::event_clock::time_point>* created;
    std::string_view name() const noexcept { return "reading"; }
    void validate(const sa::task_options&) const {}
    template <class Receiver>
    asio::awaitable<void> run(Receiver& receiver) const {
        for (;;) {
            while (auto e = receiver.try_receive()) {
                created->push_back(e->created());
                receiver.process(std::move(*e));
            }
            if (!co_await receiver.wait_for_events()) co_return;
        }
    }
};

}  // namespace

TEST_CASE("emitting task: one event and a final event through serial (seed basic test)",
          "[emitting][serial]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<std::string, test_support::counter_id>(io.get_executor())
            .receiver(sa::serial{.timeout = 10s},
                      [](const std::string& data, sa::processor_context<test_support::counter_id>&,
                         sa::uuid) { return data.size(); })
            .start_queue();
    CHECK(task.status() == sa::task_status::running);
    CHECK_FALSE(task.is_complete());

    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send("Test event");
        co_await task.send_final("Final event");
        co_return co_await task.wait();
    });

    CHECK(task.is_complete());
    CHECK(task.status() == sa::task_status::completed);
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.collection().size() == 2);
    REQUIRE(result.final_event().has_value());
    const auto& final_event = *result.final_event();
    CHECK(final_event.payload() == "Final event");
    CHECK(final_event.is_final());
    CHECK(final_event.task_id() == task.id());
    REQUIRE(final_event.started().has_value());
    REQUIRE(final_event.completed().has_value());
    CHECK(*final_event.started() >= final_event.created());
    CHECK(*final_event.completed() >= *final_event.started());
    REQUIRE(result.collection().get(final_event.id()) != nullptr);
    CHECK(*result.collection().get(final_event.id()) == 11);
    CHECK(result.stats().sent == 2);
    CHECK(result.stats().processed == 2);
    check_accounting(result);
}

TEST_CASE("emitting task: the README quickstart on a thread pool", "[emitting][serial]") {
    asio::thread_pool pool(2);
    auto task = sa::emitting_builder<std::string>(pool.get_executor())
                    .name("word-lengths")
                    .timeout(30s)
                    .retry(2)
                    .receiver(sa::serial{}, [](const std::string& s) { return s.size(); })
                    .start_queue();
    auto result = asio::co_spawn(
                      pool,
                      [&]() -> asio::awaitable<decltype(task)::result_type> {
                          for (std::string w : {"a", "bb", "ccc"})
                              co_await task.send(w);
                          co_await task.send_final("dddd");
                          co_return co_await task.wait();
                      },
                      asio::use_future)
                      .get();
    CHECK(result.name() == "word-lengths");
    CHECK(result.stats().sent == 4);
    CHECK(result.stats().processed == 4);
    std::vector<std::size_t> lengths;
    for (const auto& entry : result.collection())
        lengths.push_back(entry.value);
    CHECK(lengths == std::vector<std::size_t>{1, 2, 3, 4});  // serial keeps arrival order
    CHECK(
        fmt::format("{}", result).starts_with("task 'word-lengths' completed: sent=4 processed=4"));
}

TEST_CASE("emitting task: serial processes in arrival order, one at a time", "[emitting][serial]") {
    asio::io_context io;
    std::vector<int> seen;
    int in_flight = 0;
    int max_in_flight = 0;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(8)
                    .receiver(sa::serial{},
                              [&](int value) -> asio::awaitable<int> {
                                  max_in_flight = std::max(max_in_flight, ++in_flight);
                                  asio::steady_timer yield(co_await asio::this_coro::executor, 0ms);
                                  co_await yield.async_wait(asio::use_awaitable);
                                  seen.push_back(value);
                                  --in_flight;
                                  co_return value * 2;
                              })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 0; i < 500; ++i)
            co_await task.send(i);
        task.close();
        co_return co_await task.wait();
    });
    std::vector<int> expected(500);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(seen == expected);
    CHECK(max_in_flight == 1);
    CHECK(result.stats().processed == 500);
    CHECK_FALSE(result.final_event().has_value());  // ended by close()
    int index = 0;
    for (const auto& entry : result.collection())
        CHECK(entry.value == 2 * index++);
    check_accounting(result);
}

TEST_CASE("emitting task: move-only payloads", "[emitting]") {
    asio::io_context io;
    auto task = sa::emitting_builder<std::unique_ptr<int>>(io)
                    .receiver(sa::serial{}, [](const std::unique_ptr<int>& p) { return *p + 1; })
                    .start_queue();
    auto held = std::make_unique<int>(9);
    CHECK_FALSE(task.try_send(std::move(held)));
    CHECK(held == nullptr);
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(std::make_unique<int>(1));
        co_await task.send_final(std::make_unique<int>(41));
        co_return co_await task.wait();
    });
    REQUIRE(result.final_event());
    CHECK(*result.final_event()->payload() == 41);
    CHECK(*result.collection().get(result.final_event()->id()) == 42);
    std::multiset<int> values;
    for (const auto& entry : result.collection())
        values.insert(entry.value);
    CHECK(values == std::multiset<int>{2, 10, 42});
}

TEST_CASE("emitting task: producers on several plain threads, nothing lost",
          "[emitting][threads]") {
    constexpr int producers = 4;
    constexpr int per_producer = 2500;
    asio::thread_pool pool(2);
    auto task = sa::emitting_builder<int>(pool)
                    .capacity(32)
                    .receiver(sa::serial{}, [](int value) { return static_cast<long>(value) * 3; })
                    .start_queue();
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([task, p]() mutable {
            for (int i = 0; i < per_producer; ++i) {
                const int value = p * per_producer + i;
                if (task.try_send(value)) task.async_send(value, asio::use_future).get();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    task.close();
    auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();

    constexpr long total = producers * per_producer;
    CHECK(result.stats().sent == total);
    CHECK(result.stats().processed == total);
    long sum = 0;
    for (const auto& entry : result.collection())
        sum += entry.value;
    CHECK(sum == 3 * (total * (total - 1) / 2));
    check_accounting(result);
}

TEST_CASE("emitting task: coroutine processors", "[emitting][coroutine]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{},
                              [](int value) -> asio::awaitable<std::string> {
                                  asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
                                  co_await timer.async_wait(asio::use_awaitable);
                                  co_return std::to_string(value);
                              })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 0; i < 5; ++i)
            co_await task.send(i);
        co_await task.send_final(5);
        co_return co_await task.wait();
    });
    std::vector<std::string> values;
    for (const auto& entry : result.collection())
        values.push_back(entry.value);
    CHECK(values == std::vector<std::string>{"0", "1", "2", "3", "4", "5"});
}

TEST_CASE("emitting task: the context form sees its task, event id and attempt", "[emitting]") {
    asio::io_context io;
    std::string seen_name;
    auto task = sa::emitting_builder<int>(io)
                    .name("ctx")
                    .receiver(sa::serial{},
                              [&](const int&, sa::processor_context<>& context, sa::uuid event_id) {
                                  seen_name = std::string(context.task_name());
                                  return std::pair{event_id, context.task_id()};
                              })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 0; i < 3; ++i)
            co_await task.send(i);
        task.close();
        co_return co_await task.wait();
    });
    CHECK(seen_name == "ctx");
    REQUIRE(result.collection().size() == 3);
    for (const auto& entry : result.collection()) {
        CHECK(entry.value.first == entry.key);  // keyed by the very event it came from
        CHECK(entry.value.second == task.id());
    }
}

TEST_CASE("emitting task: the event_view form and void processors", "[emitting]") {
    asio::io_context io;
    std::vector<sa::uuid> ids;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{}, [&](sa::event_view<int> e) { ids.push_back(e.id()); })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(1);
        co_await task.send_final(2);
        co_return co_await task.wait();
    });
    STATIC_REQUIRE(
        std::is_same_v<decltype(result.collection()), const sa::keyed_collection<std::monostate>&>);
    REQUIRE(ids.size() == 2);
    CHECK(result.collection().contains(ids[0]));
    CHECK(result.collection().contains(ids[1]));
    CHECK(ids[1] == result.final_event()->id());
}

TEST_CASE("emitting task: whoever can read an event's timestamps finds them taken",
          "[emitting][timestamps]") {
    using clock = sa::event_clock;
    asio::io_context io;
    const auto before = clock::now();
    // A processor that sees the whole event reads its creation and start.
    std::vector<std::pair<clock::time_point, std::optional<clock::time_point>>> seen;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{},
                              [&](sa::event_view<int> e) {
                                  seen.emplace_back(e.created(), e.inner().started());
                                  return e.payload();
                              })
                    .start_queue();
    CHECK_FALSE(task.try_send(1));
    CHECK_FALSE(task.try_send_final(2));
    auto result = run(io, [&] { return task.wait(); });
    REQUIRE(seen.size() == 2);
    for (const auto& [created, started] : seen) {
        CHECK(created >= before);
        REQUIRE(started);
        CHECK(*started >= created);
    }

    // A custom strategy (one that does not declare otherwise) reads the
    // creation time of every event it receives.
    std::vector<clock::time_point> created;
    auto custom = sa::emitting_builder<int>(io)
                      .receiver(reading_strategy{&created}, [](int v) { return v; })
                      .start_queue();
    CHECK_FALSE(custom.try_send(1));
    CHECK_FALSE(custom.try_send_final(2));
    (void)run(io, [&] { return custom.wait(); });
    REQUIRE(created.size() == 2);
    CHECK(created[0] >= before);
    CHECK(created[1] >= created[0]);

    // With a payload processor under a built-in strategy only the final
    // event's times can be read; they are taken, in order.
    auto plain =
        sa::emitting_builder<int>(io).receiver(sa::serial{}, [](int v) { return v; }).start_queue();
    CHECK_FALSE(plain.try_send(1));
    CHECK_FALSE(plain.try_send_final(2));
    auto plain_result = run(io, [&] { return plain.wait(); });
    const auto& last = *plain_result.final_event();
    CHECK(last.created() >= before);
    REQUIRE(last.started());
    REQUIRE(last.completed());
    CHECK(*last.started() >= last.created());
    CHECK(*last.completed() >= *last.started());
    check_accounting(plain_result);
}

TEST_CASE("emitting task: try_send on a full channel says full and keeps the payload",
          "[emitting]") {
    asio::io_context io;  // not running yet: nothing is drained
    auto task = sa::emitting_builder<std::string>(io)
                    .capacity(3)
                    .receiver(sa::serial{}, length)
                    .start_queue();
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(task.try_send(std::string(3, 'x')));
    std::string payload = "kept";
    CHECK(task.try_send(std::move(payload)) == sa::async_task_error::full);
    CHECK(payload == "kept");
    CHECK(task.stats().sent == 3);
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 3);
}

TEST_CASE("emitting task: sending after close or after the final event fails clearly",
          "[emitting]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .name("closing")
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    CHECK_FALSE(task.try_send_final(1));
    CHECK(task.try_send(2) == sa::async_task_error::closed);
    CHECK(task.try_send_final(3) == sa::async_task_error::closed);
    CHECK_THROWS_MATCHES(run(io, [&] { return task.send(4); }), sa::async_task_exception,
                         Catch::Predicate<sa::async_task_exception>([](const auto& e) {
                             return e.code() == sa::async_task_error::closed &&
                                    std::string(e.what()).find("task 'closing'") !=
                                        std::string::npos;
                         }));
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().sent == 1);
    CHECK(result.stats().processed == 1);

    asio::io_context io2;
    auto closed = sa::emitting_builder<int>(io2)
                      .receiver(sa::serial{}, [](int v) { return v; })
                      .start_queue();
    closed.close();
    CHECK(closed.try_send(1) == sa::async_task_error::closed);
    sweet_async::error_code async_result;
    closed.async_send(1, [&](sweet_async::error_code ec, sa::uuid) { async_result = ec; });
    auto closed_result = run(io2, [&] { return closed.wait(); });
    CHECK(async_result == sa::async_task_error::closed);
    CHECK(closed_result.stats().sent == 0);
    CHECK(closed_result.status() == sa::task_status::completed);
}

TEST_CASE("emitting task: a throwing processor fails that event, with its message",
          "[emitting][failure]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{},
                              [](int value) {
                                  if (value == 2) throw std::runtime_error("two is not allowed");
                                  return value;
                              })
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(1);
        co_await task.send(2);
        co_await task.send_final(3);
        co_return co_await task.wait();
    });
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 2);
    CHECK(result.stats().failed == 1);
    REQUIRE(result.errors().size() == 1);
    CHECK(result.errors()[0].kind == sa::outcome::failed);
    CHECK(result.errors()[0].message == "two is not allowed");
    CHECK(result.errors()[0].sequence == 1);  // the second event sent
    CHECK(result.final_event()->sequence() == 2);
    CHECK_FALSE(result.collection().contains(result.errors()[0].event_id));
    check_accounting(result);
}

TEST_CASE("emitting task: retries until success or until attempts run out", "[emitting][failure]") {
    for (unsigned retry : {0u, 1u, 2u, 3u}) {
        asio::io_context io;
        int calls = 0;
        auto task = sa::emitting_builder<int>(io)
                        .retry(retry)
                        .receiver(sa::serial{},
                                  [&](int value, sa::processor_context<>& context, sa::uuid) {
                                      ++calls;
                                      if (context.attempt() < 3) throw std::runtime_error("flaky");
                                      return value;
                                  })
                        .start_queue();
        CHECK_FALSE(task.try_send_final(7));
        auto result = run(io, [&] { return task.wait(); });
        INFO("retry = " << retry);
        if (retry >= 2) {
            CHECK(result.stats().processed == 1);
            CHECK(result.stats().retries == 2);
            CHECK(calls == 3);
        } else {
            CHECK(result.stats().failed == 1);
            CHECK(result.stats().retries == retry);
            CHECK(calls == static_cast<int>(retry) + 1);
            CHECK(result.errors()[0].message == "flaky");
        }
        check_accounting(result);
    }
}

TEST_CASE("emitting task: a coroutine processor past the per-event timeout is cancelled",
          "[emitting][timeout]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io)
            .receiver(sa::serial{.timeout = 50ms},
                      [](int value) -> asio::awaitable<int> {
                          if (value == 1) {
                              asio::steady_timer never(co_await asio::this_coro::executor, 1h);
                              co_await never.async_wait(asio::use_awaitable);
                          }
                          co_return value;
                      })
            .start_queue();
    const auto start = std::chrono::steady_clock::now();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        co_await task.send(0);
        co_await task.send(1);
        co_await task.send_final(2);
        co_return co_await task.wait();
    });
    CHECK(std::chrono::steady_clock::now() - start < 1h);  // the hour-long wait was cut short
    CHECK(result.stats().processed == 2);
    CHECK(result.stats().timed_out == 1);
    REQUIRE(result.errors().size() == 1);
    CHECK(result.errors()[0].kind == sa::outcome::timed_out);
    CHECK_THAT(result.errors()[0].message, Catch::Contains("50ms"));
    check_accounting(result);
}

TEST_CASE("emitting task: a synchronous processor that overruns its timeout ends timed_out",
          "[emitting][timeout]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{.timeout = 1ms},
                              [](int value) {
                                  if (value == 1) {
                                      // Deterministic overrun: busy until 5 ms have passed.
                                      const auto until = std::chrono::steady_clock::now() + 5ms;
                                      while (std::chrono::steady_clock::now() < until) {
                                      }
                                  }
                                  return value;
                              })
                    .start_queue();
    CHECK_FALSE(task.try_send(1));
    CHECK_FALSE(task.try_send_final(2));
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().timed_out == 1);
    CHECK(result.collection().size() == 1);
    check_accounting(result);
}

TEST_CASE("emitting task: cancel(immediate) ends queued events as cancelled",
          "[emitting][cancel]") {
    asio::io_context io;
    int calls = 0;
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::serial{},
                              [&](int v) {
                                  ++calls;
                                  return v;
                              })
                    .start_queue();
    for (int i = 0; i < 5; ++i)
        CHECK_FALSE(task.try_send(i));
    task.cancel(sa::cancellation_level::immediate);
    task.cancel(sa::cancellation_level::graceful);  // the first request decides
    CHECK(task.try_send(9) == sa::async_task_error::closed);
    auto result = run(io, [&] { return task.wait(); });
    CHECK(calls == 0);
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().sent == 5);
    CHECK(result.stats().cancelled == 5);
    for (const auto& error : result.errors())
        CHECK(error.kind == sa::outcome::cancelled);
    check_accounting(result);
}

TEST_CASE("emitting task: cancel(graceful) finishes what was sent", "[emitting][cancel]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io).receiver(sa::serial{}, [](int v) { return v; }).start_queue();
    for (int i = 0; i < 5; ++i)
        CHECK_FALSE(task.try_send(i));
    task.cancel();
    CHECK(task.try_send(9) == sa::async_task_error::closed);
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.status() == sa::task_status::cancelled);
    CHECK(result.stats().processed == 5);
    check_accounting(result);
}

TEST_CASE("emitting task: the whole-task timeout ends an idle task as timed_out",
          "[emitting][timeout]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .timeout(30ms)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    CHECK_FALSE(task.try_send(1));
    auto result = run(io, [&] { return task.wait(); });  // never closed: only the deadline ends it
    CHECK(result.status() == sa::task_status::timed_out);
    CHECK(task.status() == sa::task_status::timed_out);
    CHECK(result.stats().processed == 1);
    CHECK(task.try_send(2) == sa::async_task_error::closed);
    check_accounting(result);
}

TEST_CASE("emitting task: the result is handed out once", "[emitting]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io).receiver(sa::serial{}, [](int v) { return v; }).start_queue();
    task.close();
    auto first = run(io, [&] { return task.wait(); });
    CHECK(first.status() == sa::task_status::completed);
    CHECK_THROWS_MATCHES(run(io, [&] { return task.wait(); }), sa::async_task_exception,
                         Catch::Predicate<sa::async_task_exception>([](const auto& e) {
                             return e.code() == sa::async_task_error::result_taken;
                         }));
}

TEST_CASE("emitting task: dropping the last handle closes the task, queued events still run",
          "[emitting]") {
    asio::io_context io;
    int processed = 0;
    {
        auto task = sa::emitting_builder<int>(io)
                        .receiver(sa::serial{},
                                  [&](int v) {
                                      ++processed;
                                      return v;
                                  })
                        .start_queue();
        auto copy = task;
        for (int i = 0; i < 3; ++i)
            CHECK_FALSE(copy.try_send(i));
    }
    io.run();  // returns only because the consumer finished
    CHECK(processed == 3);
}

TEST_CASE("emitting task: a fold collector keeps only the aggregate", "[emitting][collector]") {
    asio::io_context io;
    auto task = sa::emitting_builder<std::string>(io)
                    .receiver(sa::serial{}, length)
                    .collector(sa::fold_collector{std::size_t{0}, std::plus<>{}})
                    .start_queue();
    auto result = run(io, [&]() -> asio::awaitable<decltype(task)::result_type> {
        for (int i = 1; i <= 100; ++i)
            co_await task.send(std::string(static_cast<std::size_t>(i), 'x'));
        task.close();
        co_return co_await task.wait();
    });
    CHECK(result.result() == 5050);
    CHECK(result.collection().size() == 100);
    CHECK(result.stats().processed == 100);
}

TEST_CASE("builder: invalid configuration is rejected when the task is built", "[builder]") {
    asio::io_context io;
    const auto builder = sa::emitting_builder<int>(io).name("bad");
    auto identity = [](int v) { return v; };
    const auto message_of = [](auto&& start) -> std::string {
        try {
            start();
        } catch (const sa::async_task_exception& e) {
            CHECK(e.code() == sa::async_task_error::invalid_configuration);
            return e.what();
        }
        return "no exception";
    };
    CHECK_THAT(message_of([&] {
                   (void)builder.capacity(0).receiver(sa::serial{}, identity).start_queue();
               }),
               Catch::Contains("task 'bad'") &&
                   Catch::Contains("capacity must be at least 1, got 0"));
    // Sizes the channel's ring cannot address, or that cannot be allocated, are refused as
    // configuration errors of the task, not as std::bad_array_new_length or std::bad_alloc.
    CHECK_THAT(message_of([&] {
                   (void)builder.capacity(SIZE_MAX).receiver(sa::serial{}, identity).start_queue();
               }),
               Catch::StartsWith("task 'bad': capacity must be at most ") &&
                   Catch::EndsWith(fmt::format("got {}", SIZE_MAX)));
    if (test_support::failed_allocation_throws) {
        CHECK_THAT(message_of([&] {
                       (void)builder
                           .capacity(std::size_t{1} << 50)  // a petabyte and more
                           .receiver(sa::serial{}, identity)
                           .start_queue();
                   }),
                   Catch::StartsWith(
                       fmt::format("task 'bad': capacity {} needs ", std::size_t{1} << 50)) &&
                       Catch::EndsWith("which could not be allocated"));
    }
    CHECK_THAT(message_of([&] {
                   (void)builder.timeout(-5ms).receiver(sa::serial{}, identity).start_queue();
               }),
               Catch::Contains("timeout must be positive, got -5ms"));
    CHECK_THAT(message_of([&] {
                   (void)builder.receiver(sa::serial{.timeout = 0ms}, identity).start_queue();
               }),
               Catch::Contains("serial.timeout must be positive, got 0ns"));
}

TEST_CASE("builder: every setter returns a new builder, the original is unchanged", "[builder]") {
    asio::io_context io;
    const auto base = sa::emitting_builder<int>(io).name("base").capacity(10);
    const auto derived =
        base.name("derived").retry(3).tracing().priority(sa::task_priority::high).timeout(2s);
    CHECK(base.options().name == "base");
    CHECK(base.options().retry == 0);
    CHECK_FALSE(base.options().tracing);
    CHECK_FALSE(base.options().timeout.has_value());
    CHECK(derived.options().name == "derived");
    CHECK(derived.options().capacity == 10);
    CHECK(derived.options().retry == 3);
    CHECK(derived.options().tracing);
    CHECK(derived.options().priority == sa::task_priority::high);
    CHECK(derived.options().timeout == std::chrono::nanoseconds(2s));

    auto task = sa::async_task<void, test_support::counter_id>::emits<int>(io.get_executor())
                    .name("counted")
                    .priority(sa::task_priority::low)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    CHECK(task.name() == "counted");
    CHECK(task.priority() == sa::task_priority::low);
    CHECK(task.id().to_string().starts_with("TestTask-"));
    CHECK_FALSE(task.try_send_final(1));
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.task_id() == task.id());
    CHECK(result.final_event()->task_id() == task.id());
}

TEST_CASE("emitting task: a caller may cancel its wait() without harming the task",
          "[emitting][cancel]") {
    asio::io_context io;
    auto task =
        sa::emitting_builder<int>(io).receiver(sa::serial{}, [](int v) { return v; }).start_queue();
    CHECK_FALSE(task.try_send(1));
    // The task never closes by itself: wait() can only end by being cancelled.
    const bool waited_out = run(io, [&]() -> asio::awaitable<bool> {
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer give_up(co_await asio::this_coro::executor, 20ms);
        auto first = co_await (task.wait() || give_up.async_wait(asio::use_awaitable));
        co_return first.index() == 1;
    });
    CHECK(waited_out);
    CHECK_FALSE(task.is_complete());
    CHECK(task.status() == sa::task_status::running);
    CHECK_FALSE(task.try_send_final(2));
    auto result = run(io, [&] { return task.wait(); });  // the result is still there
    CHECK(result.stats().processed == 2);
}

TEST_CASE(
    "emitting task: every send tells the id of the event it made, the key of its result or error",
    "[emitting_task][ids]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(1)
                    .receiver(sa::serial{},
                              [](int v) {
                                  if (v < 0) throw std::invalid_argument("negative");
                                  return v * 10;
                              })
                    .start_queue();
    sa::uuid by_try;
    sa::uuid left_alone = sa::uuid::generate();
    const sa::uuid before_full = left_alone;
    REQUIRE_FALSE(task.try_send(1, by_try));
    CHECK(task.try_send(2, left_alone) == sa::async_task_error::full);
    CHECK(left_alone == before_full);  // untouched when nothing was sent
    sa::uuid by_send, by_failing, by_async, by_final;
    auto result =
        run(io, [&]() -> asio::awaitable<sa::final_result<int, sa::keyed_collection<int>>> {
            by_send = co_await task.send(2);  // waits for room
            by_failing = co_await task.send(-1);
            by_async = co_await task.async_send(4, asio::use_awaitable);
            by_final = co_await task.send_final(5);
            co_return co_await task.wait();
        });
    check_accounting(result);
    const std::set<sa::uuid> ids{by_try, by_send, by_failing, by_async, by_final};
    CHECK(ids.size() == 5);
    CHECK(ids.count(sa::uuid{}) == 0);
    REQUIRE(result.collection().get(by_try) != nullptr);
    CHECK(*result.collection().get(by_try) == 10);
    CHECK(*result.collection().get(by_send) == 20);
    CHECK(*result.collection().get(by_async) == 40);
    CHECK(*result.collection().get(by_final) == 50);
    REQUIRE(result.errors().size() == 1);
    CHECK(result.errors()[0].event_id == by_failing);
    CHECK(result.errors()[0].message == "negative");
    sa::uuid after_close = sa::uuid::generate();
    CHECK(task.try_send(6, after_close) == sa::async_task_error::closed);
    sweet_async::error_code refused;
    sa::uuid nil = sa::uuid::generate();
    task.async_send(7, [&](sweet_async::error_code ec, sa::uuid event_id) {
        refused = ec;
        nil = event_id;
    });
    io.restart();
    io.run();
    CHECK(refused == sa::async_task_error::closed);
    CHECK(nil == sa::uuid{});
}
