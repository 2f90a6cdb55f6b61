// A concurrency limit that changes while the task runs: set by hand from any thread (raising it
// starts more at once, lowering it lets the work in flight finish), and the Vegas limiter
// that moves it by measured latency.
#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::check_accounting;
using test_support::run;

namespace {

/// Lets events through one at a time as the test releases them, and counts those inside.
struct turnstile {
    explicit turnstile(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    std::size_t tokens = 0;
    std::size_t inside = 0;
    std::size_t most_inside = 0;

    void release(std::size_t n) {
        tokens += n;
        timer.cancel();  // every waiter re-checks
    }
    asio::awaitable<int> pass(int v) {
        ++inside;
        most_inside = std::max(most_inside, inside);
        while (tokens == 0) {
            sweet_async::error_code ec;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        --tokens;
        --inside;
        co_return v;
    }
};

}  // namespace

TEST_CASE("concurrency_limit: raising it starts more at once, lowering it lets the work in "
          "flight finish",
          "[limit]") {
    asio::io_context io;
    turnstile gate(io);
    sa::concurrency_limit limit(2);
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::parallel{.workers = {1, 64}, .limit = limit},
                              [&gate](int v) { return gate.pass(v); })
                    .start_queue();
    for (int i = 0; i < 30; ++i)
        REQUIRE_FALSE(task.try_send(i));
    task.close();
    io.poll();
    CHECK(gate.inside == 2);

    // Raised from another thread while both are held: four more start, nothing has finished.
    std::thread([limit] { limit.set(6); }).join();
    io.poll();
    CHECK(gate.inside == 6);
    CHECK(fmt::format("{}", task.strategy_report().current) == "parallel(workers=1..64, limit=6)");
    CHECK(task.strategy_report().decisions.back() == "in-flight bound 2 -> 6");

    // Lowered: the six in flight finish; then one at a time.
    limit.set(1);
    gate.release(6);
    io.poll();
    CHECK(gate.inside == 1);
    CHECK(gate.most_inside == 6);
    gate.release(100);
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 30);
    check_accounting(result);
}

TEST_CASE("concurrency_limit: per_key takes the limit too, within its workers",
          "[limit][per_key]") {
    asio::io_context io;
    turnstile gate(io);
    sa::concurrency_limit limit(100);  // above workers.max: workers.max bounds it
    auto task = sa::emitting_builder<int>(io)
                    .receiver(sa::per_key([](int v) { return v % 10; },
                                          {.workers = {1, 4}, .limit = limit}),
                              [&gate](int v) { return gate.pass(v); })
                    .start_queue();
    for (int i = 0; i < 40; ++i)
        REQUIRE_FALSE(task.try_send(i));
    task.close();
    io.poll();
    CHECK(gate.inside == 4);
    limit.set(0);  // below workers.min: one at least
    gate.release(4);
    io.poll();
    CHECK(gate.inside == 1);
    gate.release(100);
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 40);
    check_accounting(result);
}

TEST_CASE("concurrency_limit: the vegas limiter grows while the service queues little and "
          "shrinks when it queues more",
          "[limit][vegas]") {
    sa::detail::vegas_limiter limiter({.initial = 4});
    // A service that answers in 10 ms whatever the load: the limit climbs to the top.
    std::size_t limit = limiter.limit();
    for (int window = 0; window < 150; ++window)
        limit = limiter.update(10ms, limit, 1, 64);
    CHECK(limit == 64);
    CHECK(limiter.no_load() == 10ms);

    // The service degrades: it now serves 8 at once and queues the rest. Latency rises with
    // the load, and the limit comes down to a few above 8 (probe windows aside).
    auto degraded = [](std::size_t in_flight) {
        const double load = std::max(1.0, static_cast<double>(in_flight) / 8.0);
        return std::chrono::nanoseconds(static_cast<std::int64_t>(10e6 * load));
    };
    const std::size_t before = limit;
    limit = limiter.update(degraded(limit), limit, 1, 64);
    CHECK(limit < before);
    std::size_t highest_late = 0;
    for (int window = 0; window < 200; ++window) {
        limit = limiter.update(degraded(limit), limit, 1, 64);
        if (window >= 100 && !limiter.probing()) highest_late = std::max(highest_late, limit);
    }
    CHECK(highest_late <= 20);
    CHECK(limit >= 2);

    // Windows that used less than half the limit say nothing about more: it stays.
    sa::detail::vegas_limiter idle({.initial = 8});
    CHECK(idle.update(10ms, 1, 1, 64) == 8);
    CHECK(idle.update(10ms, 2, 1, 64) == 8);
}

TEST_CASE("concurrency_limit: the vegas limiter settles where a service starts to queue",
          "[limit][vegas]") {
    // A service that serves 8 requests at once in 10 ms and queues the rest: latency grows with
    // the excess. The limit settles a few above 8 (a short queue), far below the 64 allowed.
    auto service = [](std::size_t in_flight) {
        const double load = std::max(1.0, static_cast<double>(in_flight) / 8.0);
        return std::chrono::nanoseconds(static_cast<std::int64_t>(10e6 * load));
    };
    sa::detail::vegas_limiter limiter({.initial = 1});
    std::size_t limit = limiter.limit();
    std::size_t lowest_late = 64;
    std::size_t highest_late = 0;
    for (int window = 0; window < 1000; ++window) {
        limit = limiter.update(service(limit), limit, 1, 64);
        if (window >= 500 && !limiter.probing()) {
            lowest_late = std::min(lowest_late, limit);
            highest_late = std::max(highest_late, limit);
        }
    }
    CHECK(lowest_late >= 8);
    CHECK(highest_late <= 16);
}

TEST_CASE("concurrency_limit: after a probe, a service that became slower for good is not taken "
          "for an overloaded one",
          "[limit][vegas]") {
    sa::detail::vegas_limiter limiter({.initial = 16, .probe_every = 10});
    std::size_t limit = limiter.limit();
    for (int window = 0; window < 5; ++window)
        limit = limiter.update(10ms, limit, 1, 64);
    // Every request now takes 50 ms, however few are in flight: the no-load latency is measured
    // afresh within a probe's windows, and the limit climbs again.
    for (int window = 0; window < 40; ++window)
        limit = limiter.update(50ms, limit, 1, 64);
    CHECK(limiter.no_load() == 50ms);
    CHECK(limit == 64);
}

TEST_CASE("concurrency_limit: a vegas limit moves within the strategy's workers while a task runs",
          "[limit][vegas]") {
    asio::io_context io;
    const auto limit = sa::concurrency_limit::vegas({.initial = 2, .samples_per_window = 2});
    std::size_t inside = 0;
    std::size_t most = 0;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(4000)
                    .receiver(sa::parallel{.workers = {1, 16}, .limit = limit},
                              [&](int v) -> asio::awaitable<int> {
                                  most = std::max(most, ++inside);
                                  asio::steady_timer t(co_await asio::this_coro::executor, 200us);
                                  co_await t.async_wait(asio::use_awaitable);
                                  --inside;
                                  co_return v;
                              })
                    .start_queue();
    for (int i = 0; i < 3000; ++i)
        REQUIRE_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().processed == 3000);
    check_accounting(result);
    CHECK(limit.get() > 2);  // a steady service: it grew
    CHECK(limit.get() <= 16);
    CHECK(most <= 16);
    CHECK(fmt::format("{}", limit).starts_with("vegas(initial=2, smoothing=1"));
}
