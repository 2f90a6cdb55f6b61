// The throttle: its token bucket against a clock the test drives, and tasks under it, whatever
// the strategy: never faster than the rate, bursts as large as the burst, a cancel not held up.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::check_accounting;
using test_support::run;

TEST_CASE("throttle: the token bucket lets a burst go, then one event per interval", "[throttle]") {
    using clock = std::chrono::steady_clock;
    const clock::time_point t0{};
    sa::detail::token_bucket bucket({.events = 10, .per = 1s, .burst = 3}, t0);
    // Full at the start: three at once, then none until the next interval.
    CHECK(bucket.try_take(t0));
    CHECK(bucket.try_take(t0));
    CHECK(bucket.try_take(t0));
    CHECK_FALSE(bucket.try_take(t0));
    CHECK(bucket.next_token() == t0 + 100ms);
    CHECK_FALSE(bucket.try_take(t0 + 99ms));
    CHECK(bucket.try_take(t0 + 100ms));
    CHECK_FALSE(bucket.try_take(t0 + 150ms));
    CHECK(bucket.try_take(t0 + 200ms));
    // A quiet spell saves tokens up to the burst, not beyond.
    const clock::time_point later = t0 + 10s;
    CHECK(bucket.try_take(later));
    CHECK(bucket.try_take(later));
    CHECK(bucket.try_take(later));
    CHECK_FALSE(bucket.try_take(later));
    // Over a long run: exactly the rate.
    std::size_t taken = 0;
    for (auto t = later; t <= later + 10s; t += 1ms)
        taken += bucket.try_take(t) ? 1 : 0;
    CHECK(taken == 100);
}

TEST_CASE("throttle: a task takes events no faster than the rate, whatever its strategy",
          "[throttle]") {
    // 200 events/s with bursts of 5: 45 events need at least (45 - 5) / 200 s = 200 ms.
    const sa::throttle limit{.events = 200, .per = 1s, .burst = 5};
    constexpr std::size_t events = 45;
    constexpr auto least = 200ms;
    asio::thread_pool pool(2);
    auto check = [&](auto task) {
        const auto started = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < events; ++i)
            task.async_send(static_cast<int>(i), asio::use_future).get();
        task.close();
        auto result = task.async_wait(asio::use_future).get();
        const auto took = std::chrono::steady_clock::now() - started;
        CHECK(result.stats().processed == events);
        check_accounting(result);
        CHECK(took >= least);
    };
    auto builder = sa::emitting_builder<int>(pool).throttle(limit).capacity(64);
    auto same = [](int v) { return v; };
    SECTION("serial") {
        check(builder.receiver(sa::serial{}, same).start_queue());
    }
    SECTION("parallel") {
        check(builder.receiver(sa::parallel{.workers = {1, 8}}, same).start_queue());
    }
    SECTION("batched") {
        check(builder
                  .receiver(
                      sa::batched{.batch_size = 10, .window = 5ms},
                      [](std::span<const int> b) { return std::vector<int>(b.begin(), b.end()); })
                  .start_queue());
    }
    SECTION("per_key") {
        check(builder.receiver(sa::per_key([](int v) { return v % 4; }), same).start_queue());
    }
}

TEST_CASE("throttle: cancel(immediate) ends the backlog at once, not at the throttle's pace",
          "[throttle][cancel]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .throttle({.events = 1, .per = 1s})
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    for (int i = 0; i < 50; ++i)
        REQUIRE_FALSE(task.try_send(i));
    io.poll();  // the first event went; the next token is a second away
    const auto started = std::chrono::steady_clock::now();
    task.cancel(sa::cancellation_level::immediate);
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 1);
    CHECK(result.stats().cancelled == 49);
    check_accounting(result);
    CHECK(std::chrono::steady_clock::now() - started < 5s);  // 49 s at the throttle's pace
}

TEST_CASE("throttle: invalid settings are rejected naming the field", "[throttle][builder]") {
    asio::io_context io;
    auto start = [&](sa::throttle t) {
        return sa::emitting_builder<int>(io)
            .name("paced")
            .throttle(t)
            .receiver(sa::serial{}, [](int v) { return v; })
            .start_queue();
    };
    CHECK_THROWS_WITH(start({.events = 0}),
                      Catch::Contains("throttle.events must be at least 1, got 0"));
    CHECK_THROWS_WITH(start({.events = 1, .per = 0s}),
                      Catch::Contains("throttle.per must be positive, got 0"));
    CHECK_THROWS_WITH(start({.events = 1, .per = 1s, .burst = 0}),
                      Catch::Contains("throttle.burst must be at least 1, got 0"));
    CHECK_THROWS_WITH(start({.events = 10, .per = 1ns}), Catch::Contains("finer than 1ns"));
    CHECK(fmt::format("{}", sa::throttle{.events = 100, .per = 1s, .burst = 10}) ==
          "throttle(100 per 1s, burst 10)");
}
