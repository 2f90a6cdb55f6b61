#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/base/detail/asio_compat.hpp>
#include <sweet_async/channel/channel.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;

namespace {
/// Receives everything until the channel is drained.
template <class T>
asio::awaitable<std::vector<T>> drain(sa::channel<T>& ch) {
    std::vector<T> received;
    for (;;) {
        while (auto value = ch.try_receive())
            received.push_back(std::move(*value));
        if (ch.drained()) co_return received;
        co_await ch.async_wait_readable(asio::use_awaitable);
    }
}
}  // namespace

TEST_CASE("channel: zero capacity is rejected", "[channel]") {
    asio::io_context io;
    CHECK_THROWS_MATCHES(sa::channel<int>(io.get_executor(), 0), sa::async_task_exception,
                         Catch::Predicate<sa::async_task_exception>([](const auto& e) {
                             return e.code() == sa::async_task_error::invalid_configuration;
                         }));
    CHECK(sa::channel<int>(io.get_executor()).capacity() == 100);
}

TEST_CASE("channel: a capacity beyond what can be addressed or allocated is refused, naming it",
          "[channel]") {
    asio::io_context io;
    const std::size_t most = sa::channel<int>::max_capacity();
    REQUIRE(most > 1'000'000);
    const auto message_of = [&](std::size_t capacity) -> std::string {
        try {
            sa::channel<int> ch(io.get_executor(), capacity);
        } catch (const sa::async_task_exception& e) {
            CHECK(e.code() == sa::async_task_error::invalid_configuration);
            return e.what();
        }
        return "no exception";
    };
    CHECK(message_of(SIZE_MAX) ==
          fmt::format("capacity must be at most {} for events of 4 bytes, got {}", most, SIZE_MAX));
    // Addressable, but far more memory than there is: the failed allocation is reported as such.
    if (!test_support::failed_allocation_throws) return;
    CHECK_THAT(message_of(most),
               Catch::StartsWith(fmt::format("capacity {} needs ", most)) &&
                   Catch::EndsWith(" bytes for the channel's ring, which could not be allocated"));
}

TEST_CASE("channel: try_send fills to capacity, then says full and keeps the value", "[channel]") {
    asio::io_context io;
    sa::channel<std::unique_ptr<int>> ch(io.get_executor(), 3);
    for (int i = 0; i < 3; ++i) {
        auto value = std::make_unique<int>(i);
        CHECK_FALSE(ch.try_send(std::move(value)));
        CHECK(value == nullptr);  // moved in
    }
    auto extra = std::make_unique<int>(99);
    CHECK(ch.try_send(std::move(extra)) == sa::async_task_error::full);
    REQUIRE(extra != nullptr);  // untouched
    CHECK(*extra == 99);
    CHECK(ch.sent() == 3);

    auto first = ch.try_receive();
    REQUIRE(first);
    CHECK(**first == 0);
    CHECK_FALSE(ch.try_send(std::move(extra)));  // a slot is free again
    CHECK(**ch.try_receive() == 1);
    CHECK(**ch.try_receive() == 2);
    CHECK(**ch.try_receive() == 99);
    CHECK_FALSE(ch.try_receive());
}

TEST_CASE("channel: close stops sends, keeps what was sent, then reports drained", "[channel]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 4);
    CHECK_FALSE(ch.try_send(1));
    CHECK_FALSE(ch.try_send(2));
    ch.close();
    ch.close();  // idempotent
    CHECK(ch.is_closed());
    CHECK(ch.try_send(3) == sa::async_task_error::closed);
    CHECK_FALSE(ch.drained());
    CHECK(*ch.try_receive() == 1);
    CHECK(*ch.try_receive() == 2);
    CHECK(ch.drained());
    CHECK(ch.sent() == 2);
}

TEST_CASE("channel: a closing send is atomically the last element", "[channel]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 4);
    CHECK_FALSE(ch.try_send_with([] { return 1; }));
    CHECK_FALSE(ch.try_send_with([] { return 2; }, sa::send_mode::close_after));
    CHECK(ch.is_closed());
    bool made = false;
    CHECK(ch.try_send_with([&] {
        made = true;
        return 3;
    }) == sa::async_task_error::closed);
    CHECK_FALSE(made);  // nothing is built for a failed send
    auto received = test_support::run(io, [&] { return drain(ch); });
    CHECK(received == std::vector<int>{1, 2});
}

TEST_CASE("channel: async_send suspends while full and resumes as the consumer drains",
          "[channel]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 2);
    int max_seen = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 1000; ++i)
                co_await ch.async_send(i, asio::use_awaitable);
            ch.close();
        },
        asio::detached);
    auto received = test_support::run(io, [&]() -> asio::awaitable<std::vector<int>> {
        std::vector<int> got;
        for (;;) {
            int ready = 0;
            while (auto value = ch.try_receive()) {
                got.push_back(*value);
                ++ready;
            }
            max_seen = std::max(max_seen, ready);
            if (ch.drained()) co_return got;
            co_await ch.async_wait_readable(asio::use_awaitable);
        }
    });
    REQUIRE(received.size() == 1000);
    for (int i = 0; i < 1000; ++i)
        CHECK(received[static_cast<std::size_t>(i)] == i);
    CHECK(max_seen <= 2 + 1);  // never more than capacity (+1 freed while draining)
}

// Hysteresis: with producers parked on a full channel, freeing one slot at a
// time must not cost a cross-thread wake-up per slot.
TEST_CASE("channel: parked producers are woken once a quarter of the channel is free, as many as "
          "fit",
          "[channel]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 8);
    CHECK(ch.wake_room() == 2);
    for (int i = 0; i < 8; ++i)
        REQUIRE_FALSE(ch.try_send(int{i}));
    std::vector<int> completed;  // the values whose parked send completed, in order
    for (int i = 8; i < 11; ++i) {
        ch.async_send(i, [&completed, i](sweet_async::error_code ec) {
            CHECK_FALSE(ec);
            completed.push_back(i);
        });
    }
    io.poll();
    CHECK(completed.empty());

    std::vector<int> received;
    received.push_back(*ch.try_receive());  // one slot free: below the wake room
    io.poll();
    CHECK(completed.empty());
    CHECK(ch.queued() == 7);

    received.push_back(*ch.try_receive());  // two free: two producers woken, and they fill them
    io.poll();
    CHECK(completed == std::vector<int>{8, 9});
    CHECK(ch.queued() == 8);

    received.push_back(*ch.try_receive());
    io.poll();
    CHECK(completed.size() == 2);
    received.push_back(*ch.try_receive());  // two free again: the last one is woken
    io.poll();
    CHECK(completed == std::vector<int>{8, 9, 10});

    ch.close();
    while (auto value = ch.try_receive())
        received.push_back(*value);
    CHECK(received == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    CHECK(ch.drained());
}

// Found by the stress test of payload copies that throw: the slot of a send
// whose element could not be made is a hole that only the consumer can skip,
// but nobody woke the consumer for it, so a full channel stayed full forever.
TEST_CASE("channel: a send whose element throws still wakes the consumer to skip its slot",
          "[channel][failure]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 1);
    std::optional<std::vector<int>> received;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { received = co_await drain(ch); }, asio::detached);
    io.poll();  // the consumer parks on the empty channel
    auto refuse = []() -> int { throw std::runtime_error("no element"); };

    SECTION("an ordinary send") {
        CHECK_THROWS_AS(ch.try_send_with(refuse), std::runtime_error);
        CHECK(ch.try_send(1) == sa::async_task_error::full);  // the hole holds the slot
        io.poll();                                            // the consumer skips it
        CHECK_FALSE(ch.try_send(2));
        ch.close();
        io.run();
        CHECK(received == std::vector<int>{2});
    }
    SECTION("a closing send: the consumer sees the end") {
        CHECK_THROWS_AS(ch.try_send_with(refuse, sa::send_mode::close_after), std::runtime_error);
        CHECK(ch.try_send(1) == sa::async_task_error::closed);
        io.run();
        CHECK(received == std::vector<int>{});
    }
}

// A run of sends or receives by one thread shares one fence (the flow's hand-off between linked
// stages): what it wakes, and what becomes of the slots it claimed and did not fill.
TEST_CASE(
    "channel: runs of sends and receives wake who waits, and a claim's unfilled slots are skipped",
    "[channel]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 8);
    std::optional<std::vector<int>> received;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { received = co_await drain(ch); }, asio::detached);
    io.poll();  // the consumer parks on the empty channel

    SECTION("a claim filled in part: the rest are holes, not counted as sent") {
        auto claim = ch.try_claim(5);
        REQUIRE_FALSE(claim.empty());
        ch.send_claimed(claim, [] { return 1; });
        ch.send_claimed(claim, [] { return 2; });
        CHECK_FALSE(ch.try_send(3));  // after the claimed slots
        CHECK(ch.queued() == 6);
        ch.fence_sends(claim);
        CHECK(claim.empty());
        CHECK(ch.sent() == 3);
        ch.close();
        io.run();
        CHECK(received == std::vector<int>{1, 2, 3});
    }
    SECTION("a claim takes only the free slots, none when full or closed") {
        for (int i = 0; i < 6; ++i)
            REQUIRE_FALSE(ch.try_send(int{i}));
        auto claim = ch.try_claim(5);
        REQUIRE_FALSE(claim.empty());
        ch.send_claimed(claim, [] { return 6; });
        ch.send_claimed(claim, [] { return 7; });
        CHECK(claim.empty());
        CHECK(ch.try_claim(1).empty());
        ch.fence_sends(claim);
        ch.close();
        CHECK(ch.try_claim(1).empty());
        io.run();
        CHECK(received == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
    }
    SECTION("sends in a run without a claim") {
        CHECK_FALSE(ch.try_send_in_run([] { return 1; }));
        CHECK_FALSE(ch.try_send_in_run([] { return 2; }));
        ch.fence_sends();
        ch.close();
        io.run();
        CHECK(received == std::vector<int>{1, 2});
    }
}

TEST_CASE("channel: a run of receives wakes parked producers for the room it made", "[channel]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 4);
    for (int i = 0; i < 4; ++i)
        REQUIRE_FALSE(ch.try_send(int{i}));
    std::vector<int> completed;
    for (int i = 4; i < 6; ++i) {
        ch.async_send(i, [&completed, i](sweet_async::error_code ec) {
            CHECK_FALSE(ec);
            completed.push_back(i);
        });
    }
    io.poll();
    CHECK(completed.empty());
    std::vector<int> received;
    const auto keep = [](const int&) noexcept {};
    for (int i = 0; i < 2; ++i)
        received.push_back(*ch.try_receive_in_run(keep));
    ch.fence_receives();
    io.poll();
    CHECK(completed == std::vector<int>{4, 5});
    ch.close();
    while (auto value = ch.try_receive())
        received.push_back(*value);
    CHECK(received == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("channel: async_send on a closed channel completes with closed", "[channel]") {
    asio::io_context io;
    sa::channel<int> ch(io.get_executor(), 1);
    CHECK_FALSE(ch.try_send(1));
    sweet_async::error_code parked_result;
    sweet_async::error_code late_result;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // Channel full: this send parks until close() wakes it.
            auto [ec] = co_await ch.async_send(2, sa::detail::as_tuple(asio::use_awaitable));
            parked_result = ec;
        },
        asio::detached);
    io.run_one();  // the sender parks
    io.restart();
    ch.close();
    io.run();
    io.restart();
    ch.async_send(3, [&](sweet_async::error_code ec) { late_result = ec; });
    io.run();
    CHECK(parked_result == sa::async_task_error::closed);
    CHECK(late_result == sa::async_task_error::closed);
    CHECK(ch.sent() == 1);
}

TEST_CASE("channel: producers on many threads, nothing lost, per-producer order kept",
          "[channel][threads]") {
    constexpr int producers = 4;
    constexpr int per_producer = 20000;
    asio::io_context io;
    sa::channel<std::pair<int, int>> ch(io.get_executor(), 16);
    auto work = asio::make_work_guard(io);
    std::thread consumer_thread([&] { io.run(); });

    auto received_future = asio::co_spawn(io, drain(ch), asio::use_future);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&ch, p] {
            for (int i = 0; i < per_producer; ++i) {
                // Alternate the non-suspending and the suspending send.
                if (i % 2 == 0 && !ch.try_send({p, i})) continue;
                ch.async_send({p, i}, asio::use_future).get();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    ch.close();
    auto received = received_future.get();
    work.reset();
    consumer_thread.join();

    REQUIRE(received.size() == static_cast<std::size_t>(producers * per_producer));
    std::vector<int> next(producers, 0);
    for (const auto& [p, i] : received) {
        REQUIRE(i == next[static_cast<std::size_t>(p)]);
        ++next[static_cast<std::size_t>(p)];
    }
    CHECK(ch.sent() == received.size());
}
