// Overflow policies: what a send into a full channel does (wait, reject, drop_newest,
// drop_oldest), and the accounting of dropped events: their own outcome, counted, listed.
#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;
using test_support::check_accounting;
using test_support::run;
using test_support::valve;

namespace {

/// A task of `policy` with a channel of `capacity`, whose processor holds event 0 at `held`
/// and records the order it processed payloads in.
auto held_task(asio::io_context& io, valve& held, std::vector<int>& processed,
               sa::overflow_policy policy, std::size_t capacity) {
    return sa::emitting_builder<int>(io)
        .name("readings")
        .capacity(capacity)
        .overflow(policy)
        .receiver(sa::serial{},
                  [&held, &processed](int v) -> asio::awaitable<int> {
                      if (v == 0) co_await held.pass();
                      processed.push_back(v);
                      co_return v;
                  })
        .start_queue();
}

std::vector<sa::uuid> dropped_ids(std::span<const sa::event_error> errors) {
    std::vector<sa::uuid> ids;
    for (const auto& e : errors)
        if (e.kind == sa::outcome::dropped) ids.push_back(e.event_id);
    return ids;
}

}  // namespace

TEST_CASE("overflow: reject fails every send form at once with full instead of waiting",
          "[overflow]") {
    asio::io_context io;
    valve held(io);
    std::vector<int> processed;
    auto task = held_task(io, held, processed, sa::overflow_policy::reject, 2);
    REQUIRE_FALSE(task.try_send(0));
    io.poll();  // 0 is in the processor, held
    REQUIRE_FALSE(task.try_send(1));
    REQUIRE_FALSE(task.try_send(2));
    CHECK(task.try_send(3) == sa::async_task_error::full);
    sweet_async::error_code refused;
    sa::uuid id;
    run(io, [&]() -> asio::awaitable<void> {
        std::tie(refused, id) =
            co_await task.async_send(4, sa::detail::as_tuple(asio::use_awaitable));
    });
    CHECK(refused == sa::async_task_error::full);
    CHECK_THROWS_WITH(run(io, [&] { return task.send(5); }), Catch::Contains("full"));
    held.open();
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().sent == 3);  // a refused send was never accepted
    CHECK(result.stats().processed == 3);
    CHECK(result.stats().dropped == 0);
    check_accounting(result);
}

TEST_CASE("overflow: drop_newest accepts and drops the new event, a final event waits",
          "[overflow]") {
    asio::io_context io;
    valve held(io);
    std::vector<int> processed;
    auto task = held_task(io, held, processed, sa::overflow_policy::drop_newest, 2);
    REQUIRE_FALSE(task.try_send(0));
    io.poll();
    std::vector<sa::uuid> sent_ids;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 1; i <= 10; ++i)
            sent_ids.push_back(co_await task.send(i));  // never waits
    });
    CHECK(task.stats().sent == 11);
    CHECK(task.stats().dropped == 8);
    // The final event waits for room rather than being dropped.
    bool final_sent = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await task.send_final(11);
            final_sent = true;
        },
        asio::detached);
    io.poll();
    CHECK_FALSE(final_sent);
    held.open();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(final_sent);
    CHECK(processed == std::vector<int>{0, 1, 2, 11});
    CHECK(result.stats().dropped == 8);
    CHECK(result.stats().processed == 4);
    check_accounting(result);
    auto dropped = dropped_ids(result.errors());
    REQUIRE(dropped.size() == 8);
    CHECK(std::equal(dropped.begin(), dropped.end(), sent_ids.begin() + 2));
    for (const auto& e : result.errors()) {
        CHECK(e.message == "the channel was full (drop_newest)");
        CHECK(e.sequence == sa::event_error::not_received);
        CHECK(fmt::format("{}", e).starts_with("event ("));
    }
    CHECK(fmt::format("{}", result.stats()).find(" dropped=8 ") != std::string::npos);
}

TEST_CASE("overflow: drop_oldest keeps the freshest events, in order", "[overflow]") {
    asio::io_context io;
    valve held(io);
    std::vector<int> processed;
    auto task = held_task(io, held, processed, sa::overflow_policy::drop_oldest, 3);
    REQUIRE_FALSE(task.try_send(0));
    io.poll();
    for (int i = 1; i <= 10; ++i)
        REQUIRE_FALSE(task.try_send(i));  // never full
    REQUIRE_FALSE(task.try_send_final(11));
    CHECK(task.try_send(12) == sa::async_task_error::closed);
    held.open();
    auto result = run(io, [&] { return task.wait(); });
    // The freshest three that waited: 9, 10 and the final event 11.
    CHECK(processed == std::vector<int>{0, 9, 10, 11});
    CHECK(result.stats().sent == 12);
    CHECK(result.stats().dropped == 8);
    CHECK(result.stats().processed == 4);
    REQUIRE(result.final_event());
    CHECK(result.final_event()->payload() == 11);
    check_accounting(result);
}

TEST_CASE("overflow: drop_oldest hands out nothing aside while an older slot of the ring is "
          "still being written",
          "[overflow][channel]") {
    // Found by the stress tests (a producer's events processed 31, 32, 30): another producer's
    // slot still being written held the ring's head, the area handed out what waited aside,
    // and the element behind that slot (older) came after it.
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 2);
    std::vector<int> dropped;
    ch.set_overflow(sa::overflow_policy::drop_oldest,
                    [&dropped](int&& v) { dropped.push_back(v); });
    auto writing = ch.try_claim(1);  // another producer's slot, being written
    REQUIRE_FALSE(writing.empty());
    REQUIRE_FALSE(ch.try_send(30));           // the ring's last slot: full now
    REQUIRE_FALSE(ch.try_send(31));           // aside
    CHECK_FALSE(ch.ready());                  // the head is being written
    CHECK(ch.try_receive() == std::nullopt);  // not 31: 30 is older
    ch.send_claimed(writing, [] { return 2; });
    ch.fence_sends(writing);
    std::vector<int> rest;
    while (auto v = ch.try_receive())
        rest.push_back(*v);
    CHECK(rest == std::vector<int>{30, 31});
    CHECK(dropped == std::vector<int>{2});  // the oldest beyond the capacity
}

TEST_CASE("overflow: dropped events count within the error retention", "[overflow]") {
    asio::io_context io;
    valve held(io);
    std::vector<int> processed;
    auto task = sa::emitting_builder<int>(io)
                    .capacity(1)
                    .retain_errors(5)
                    .overflow(sa::overflow_policy::drop_newest)
                    .receiver(sa::serial{},
                              [&](int v) -> asio::awaitable<int> {
                                  if (v == 0) co_await held.pass();
                                  co_return v;
                              })
                    .start_queue();
    REQUIRE_FALSE(task.try_send(0));
    io.poll();
    for (int i = 1; i <= 21; ++i)
        REQUIRE_FALSE(task.try_send(i));
    held.open();
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().dropped == 20);
    CHECK(result.errors().size() == 5);
    CHECK(result.errors_not_retained() == 15);
    check_accounting(result);
}

TEST_CASE("overflow: drop_oldest under producer threads keeps each producer's order and "
          "accounts for every event",
          "[overflow][threads]") {
    asio::thread_pool pool(2);
    std::mutex mutex;
    std::map<int, std::vector<int>> seen;  // producer -> indices, in processing order
    auto task = sa::emitting_builder<std::pair<int, int>>(pool)
                    .capacity(4)
                    .overflow(sa::overflow_policy::drop_oldest)
                    .receiver(sa::serial{},
                              [&](const std::pair<int, int>& p) {
                                  std::this_thread::sleep_for(20us);  // a slow consumer
                                  std::lock_guard lock(mutex);
                                  seen[p.first].push_back(p.second);
                                  return p.second;
                              })
                    .start_queue();
    constexpr int producers = 4;
    constexpr int each = 2000;
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 0; i < each; ++i) {
                try {
                    task.async_send({p, i}, asio::use_future).get();  // never waits
                } catch (const sweet_async::system_error&) {
                    ++refused;
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(refused == 0);
    task.close();
    auto result = task.async_wait(asio::use_future).get();
    CHECK(result.stats().sent == producers * each);
    CHECK(result.stats().dropped > 0);
    CHECK(result.stats().processed + result.stats().dropped == producers * each);
    check_accounting(result);
    for (const auto& [producer, indices] : seen)
        CHECK(std::is_sorted(indices.begin(), indices.end()));
}

TEST_CASE("overflow: the policy is shown in the task's options", "[overflow][formatting]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .overflow(sa::overflow_policy::drop_oldest)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .start_queue();
    CHECK(fmt::format("{}", task.options()).ends_with(", overflow=drop_oldest)"));
    CHECK(fmt::format("{}", sa::overflow_policy::reject) == "reject");
    task.close();
    run(io, [&] { return task.wait(); });
}
