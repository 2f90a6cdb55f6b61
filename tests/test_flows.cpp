// Linked stages (forward_to) and dead-letter targets: backpressure across a link, completion,
// fault and cancellation propagation, and the accounting of every event that entered.
#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
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
using test_support::valve;

namespace {

/// A serial stage that passes its events on unchanged, into its keyed collection.
sa::emitting_task<int, sa::keyed_collection<int>>
pass_through(asio::io_context& io, std::string name, std::size_t capacity) {
    return sa::emitting_builder<int>(io)
        .name(std::move(name))
        .capacity(capacity)
        .receiver(sa::serial{}, [](int v) { return v; })
        .start_queue();
}

/// A serial stage that holds each of its events at `slow` until it opens.
sa::emitting_task<int, sa::keyed_collection<int>> held_at(asio::io_context& io, valve& slow,
                                                          std::size_t capacity) {
    return sa::emitting_builder<int>(io)
        .name("store")
        .capacity(capacity)
        .receiver(sa::serial{},
                  [&slow](int v) -> asio::awaitable<int> {
                      co_await slow.pass();
                      co_return v;
                  })
        .start_queue();
}

template <class Task, class Payloads>
asio::awaitable<void> send_all(Task& task, Payloads payloads, bool last_is_final) {
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        if (last_is_final && i + 1 == payloads.size()) {
            co_await task.send_final(payloads[i]);
        } else {
            co_await task.send(payloads[i]);
        }
    }
}

std::vector<int> range(int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i)
        out.push_back(i);
    return out;
}

}  // namespace

TEST_CASE("flow: results become the next stage's events, and a final event stays final", "[flow]") {
    asio::io_context io;
    auto store = sa::emitting_builder<int>(io)
                     .name("store")
                     .capacity(4)
                     .receiver(sa::serial{}, [](int v) { return v + 1; })
                     .start_queue();
    auto parse = sa::emitting_builder<int>(io)
                     .name("parse")
                     .capacity(8)
                     .receiver(sa::parallel{.workers = sa::min_max{3, 3}},
                               [](int v) -> asio::awaitable<int> {
                                   co_return co_await test_support::after(
                                       std::chrono::microseconds(v % 7 * 10), v * 10);
                               })
                     .collector(sa::forward_to(store))
                     .start_queue();
    constexpr int n = 500;
    asio::co_spawn(io, send_all(parse, range(n), true), asio::detached);
    auto upstream = run(io, [&] { return parse.wait(); });
    auto downstream = run(io, [&] { return store.wait(); });

    CHECK(upstream.status() == sa::task_status::completed);
    CHECK(upstream.stats().processed == n);
    CHECK(upstream.collection().targets.at(0).next == "store");
    CHECK(upstream.collection().forwarded() == n);
    CHECK(upstream.collection().not_forwarded() == 0);
    CHECK(upstream.collection().targets.at(0).final_forwarded);

    CHECK(downstream.status() == sa::task_status::completed);
    check_accounting(downstream);
    CHECK(downstream.stats().sent == n);
    CHECK(downstream.stats().processed == n);
    std::multiset<int> values;
    for (const auto& entry : downstream.collection())
        values.insert(entry.value);
    for (int i = 0; i < n; ++i)
        CHECK(values.count(i * 10 + 1) == 1);
    // Sent last whatever the order the parallel stage finished in.
    REQUIRE(downstream.final_event());
    CHECK(downstream.final_event()->payload() == (n - 1) * 10);
    CHECK(fmt::format("{}", upstream.collection()) ==
          fmt::format("forwarded {} to 'store', 0 not forwarded, final event forwarded", n));
}

TEST_CASE("flow: a slow last stage holds the whole flow to its channels' capacities",
          "[flow][backpressure]") {
    asio::io_context io;
    valve slow(io);
    constexpr std::size_t down_capacity = 4;
    constexpr std::size_t up_capacity = 8;
    auto store = held_at(io, slow, down_capacity);
    auto parse = sa::emitting_builder<int>(io)
                     .name("parse")
                     .capacity(up_capacity)
                     .receiver(sa::serial{}, [](int v) { return v; })
                     .collector(sa::forward_to(store))
                     .start_queue();
    constexpr int n = 10'000;
    std::size_t sent = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < n; ++i) {
                co_await parse.send(i);
                ++sent;
            }
            parse.close();
        },
        asio::detached);
    // Until nothing more can happen: the producer waits on parse's full channel.
    io.poll();
    // store: one event in its processor, its channel full; parse: one result
    // waiting for store's room, its channel full; the producer waits.
    CHECK(store.stats().sent == down_capacity + 1);
    CHECK(parse.stats().processed == down_capacity + 2);
    // What parse accepted is what it processed and at most its channel's
    // capacity; the producer waits for room.
    CHECK(parse.stats().sent <= parse.stats().processed + up_capacity);
    CHECK(parse.stats().sent + 1 >= parse.stats().processed + up_capacity);
    CHECK(sent <= parse.stats().sent);
    CHECK(parse.status() == sa::task_status::running);

    slow.open();
    auto upstream = run(io, [&] { return parse.wait(); });
    auto downstream = run(io, [&] { return store.wait(); });
    CHECK(sent == n);
    CHECK(upstream.collection().forwarded() == n);
    CHECK_FALSE(upstream.collection().targets.at(0).final_forwarded);
    CHECK(downstream.status() == sa::task_status::completed);  // closed after the last result
    CHECK(downstream.stats().processed == n);
    check_accounting(downstream);
}

TEST_CASE("flow: cancel(immediate) upstream while the next stage is full ends both, every event "
          "accounted for",
          "[flow][cancel]") {
    asio::io_context io;
    valve slow(io);
    auto store = held_at(io, slow, 2);
    auto parse = sa::emitting_builder<int>(io)
                     .name("parse")
                     .capacity(4)
                     .receiver(sa::parallel{.workers = sa::min_max{2, 2}}, [](int v) { return v; })
                     .collector(sa::forward_to(store))
                     .start_queue();
    asio::co_spawn(io, send_all(parse, range(100), false), asio::detached);
    io.poll();
    REQUIRE(parse.status() == sa::task_status::running);
    parse.cancel(sa::cancellation_level::immediate);
    auto upstream = run(io, [&] { return parse.wait(); });
    CHECK(upstream.status() == sa::task_status::cancelled);
    CHECK(upstream.stats().balanced());
    const auto& link = upstream.collection();
    CHECK(link.forwarded() + link.not_forwarded() == upstream.stats().processed);
    CHECK(link.not_forwarded() >= 1);  // the result that waited for room
    CHECK(link.forwarded() == 3);      // one in store's processor, two in its channel

    // store was closed after what parse forwarded: it ends once the valve opens.
    slow.open();
    auto downstream = run(io, [&] { return store.wait(); });
    CHECK(downstream.status() == sa::task_status::completed);
    CHECK(downstream.stats().processed == link.forwarded());
    check_accounting(downstream);
}

TEST_CASE("flow: a next stage that ends early refuses the rest, counted as not forwarded",
          "[flow][cancel]") {
    asio::io_context io;
    auto store = pass_through(io, "store", 100);
    auto parse = sa::emitting_builder<int>(io)
                     .name("parse")
                     .receiver(sa::serial{}, [](int v) { return v; })
                     .collector(sa::forward_to(store))
                     .start_queue();
    store.cancel(sa::cancellation_level::graceful);
    auto downstream = run(io, [&] { return store.wait(); });
    CHECK(downstream.stats().sent == 0);
    run(io, [&] { return send_all(parse, range(20), true); });
    auto upstream = run(io, [&] { return parse.wait(); });
    CHECK(upstream.status() == sa::task_status::completed);
    CHECK(upstream.stats().processed == 20);
    CHECK(upstream.collection().forwarded() == 0);
    CHECK(upstream.collection().not_forwarded() == 20);
    CHECK_FALSE(upstream.collection().targets.at(0).final_forwarded);
}

TEST_CASE("flow: failed events are not forwarded, and go to the dead-letter target with their "
          "payload and the id the send returned",
          "[flow][dead_letter]") {
    asio::io_context io;
    std::vector<sa::dead_letter<int>> letters;
    auto store = pass_through(io, "store", 100);
    auto parse = sa::emitting_builder<int>(io)
                     .name("parse")
                     .retry(1)
                     .dead_letter([&](sa::dead_letter<int>&& letter) {
                         letters.push_back(std::move(letter));
                     })
                     .receiver(sa::serial{},
                               [](int v) {
                                   if (v % 5 == 0) throw std::invalid_argument("multiple of 5");
                                   return v;
                               })
                     .collector(sa::forward_to(store))
                     .start_queue();
    std::vector<sa::uuid> failing_ids;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 1; i <= 20; ++i) {
            const sa::uuid id = co_await parse.send(i);
            if (i % 5 == 0) failing_ids.push_back(id);
        }
        parse.close();
    });
    auto upstream = run(io, [&] { return parse.wait(); });
    auto downstream = run(io, [&] { return store.wait(); });
    CHECK(upstream.stats().failed == 4);
    CHECK(upstream.stats().dead_lettered == 4);
    CHECK(upstream.collection().forwarded() == 16);
    CHECK(downstream.stats().processed == 16);
    REQUIRE(letters.size() == 4);
    for (std::size_t i = 0; i < letters.size(); ++i) {
        CHECK(letters[i].error.event_id == failing_ids[i]);
        CHECK(letters[i].error.kind == sa::outcome::failed);
        CHECK(letters[i].error.message == "multiple of 5");
        CHECK(letters[i].error.attempts == 2);
        REQUIRE(letters[i].payload);
        CHECK(*letters[i].payload == static_cast<int>(i + 1) * 5);
    }
    CHECK(fmt::format("{}", upstream.stats()).find(" dead_lettered=4 ") != std::string::npos);
}

TEST_CASE("flow: a dead-letter task waits for room like a link, and receives every letter",
          "[flow][dead_letter][backpressure]") {
    asio::io_context io;
    valve slow(io);
    auto dead =
        sa::emitting_builder<sa::dead_letter<std::string>>(io)
            .name("dead")
            .capacity(1)
            .receiver(
                sa::serial{},
                [&](const sa::dead_letter<std::string>& letter) -> asio::awaitable<std::string> {
                    co_await slow.pass();
                    co_return letter.payload.value_or("(none)") + ": " + letter.error.message;
                })
            .start_queue();
    auto parse = sa::emitting_builder<std::string>(io)
                     .name("parse")
                     .capacity(2)
                     .dead_letter(dead)
                     .receiver(sa::batched{.batch_size = 3},
                               [](std::span<const std::string> lines) {
                                   for (const auto& line : lines)
                                       if (line.empty()) throw std::invalid_argument("empty line");
                                   return std::vector<std::size_t>(lines.size(), 1);
                               })
                     .start_queue();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 30; ++i) {
                // Made before the co_await: GCC 12 miscompiles a conditional
                // expression's temporary inside one.
                std::string line = i % 3 == 0 ? std::string() : std::to_string(i);
                co_await parse.send(std::move(line));
            }
            parse.close();
        },
        asio::detached);
    io.poll();
    // The letters wait for the dead-letter task: parse holds, and so does its producer.
    CHECK(parse.status() == sa::task_status::running);
    CHECK(dead.stats().sent == 2);  // one in its processor, one in its channel
    slow.open();
    auto upstream = run(io, [&] { return parse.wait(); });
    CHECK(upstream.stats().sent == 30);
    check_accounting(upstream);
    // Every batch holds an empty line, so every event failed and was dead-lettered.
    CHECK(upstream.stats().failed == 30);
    CHECK(upstream.stats().dead_lettered == 30);
    dead.close();  // a dead-letter target is not closed by the tasks that feed it
    auto letters = run(io, [&] { return dead.wait(); });
    CHECK(letters.stats().processed == 30);
    std::set<std::string> seen;
    for (const auto& entry : letters.collection())
        seen.insert(entry.value);
    CHECK(seen.count("1: empty line") == 1);
    CHECK(seen.count(": empty line") == 1);  // one entry per distinct text
}

TEST_CASE("flow: three stages, a stream processor in the middle, completion reaches the end",
          "[flow][stream_processor]") {
    asio::io_context io;
    auto store = sa::emitting_builder<std::size_t>(io)
                     .name("store")
                     .capacity(3)
                     .receiver(sa::batched{.batch_size = 4},
                               [](std::span<const std::size_t> sums) {
                                   return std::vector<std::size_t>(sums.begin(), sums.end());
                               })
                     .start_queue();
    // Sums pairs of events: state across events, which a per-event processor cannot keep.
    auto pair_up = sa::emitting_builder<int>(io)
                       .name("pair_up")
                       .capacity(2)
                       .stream_processor(
                           [](sa::event_stream<int, std::size_t>& stream) -> asio::awaitable<void> {
                               std::optional<sa::pulled_event<int, std::size_t>> held;
                               while (auto e = co_await stream.next()) {
                                   if (!held) {
                                       held.emplace(std::move(*e));
                                       continue;
                                   }
                                   const auto sum =
                                       static_cast<std::size_t>(held->payload() + e->payload());
                                   held->complete_without_result();
                                   held.reset();
                                   e->complete(sum);
                               }
                               if (held) held->complete(static_cast<std::size_t>(held->payload()));
                           })
                       .collector(sa::forward_to(store))
                       .start_queue();
    auto parse = sa::emitting_builder<std::string>(io)
                     .name("parse")
                     .capacity(2)
                     .receiver(sa::serial{}, [](const std::string& s) { return std::stoi(s); })
                     .collector(sa::forward_to(pair_up))
                     .start_queue();
    constexpr int n = 101;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < n; ++i)
            co_await parse.send(std::to_string(i));
        parse.close();
    });
    auto first = run(io, [&] { return parse.wait(); });
    auto second = run(io, [&] { return pair_up.wait(); });
    auto third = run(io, [&] { return store.wait(); });
    CHECK(first.collection().forwarded() == n);
    CHECK(second.stats().processed == n);
    CHECK(second.collection().forwarded() == (n + 1) / 2);
    CHECK(third.stats().processed == (n + 1) / 2);
    check_accounting(third);
    std::size_t total = 0;
    for (const auto& entry : third.collection())
        total += entry.value;
    CHECK(total == static_cast<std::size_t>(n * (n - 1) / 2));
}

TEST_CASE("flow: broadcast_to copies each result to every next stage, route_to sends it to one "
          "by key",
          "[flow][fan_out]") {
    asio::io_context io;
    auto all_a = pass_through(io, "all_a", 2);
    auto all_b = pass_through(io, "all_b", 2);
    auto even = pass_through(io, "even", 2);
    auto odd = pass_through(io, "odd", 2);
    auto copy = sa::emitting_builder<int>(io)
                    .name("copy")
                    .capacity(2)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .collector(sa::broadcast_to(all_a, all_b))
                    .start_queue();
    auto split = sa::emitting_builder<int>(io)
                     .name("split")
                     .capacity(2)
                     .receiver(sa::serial{}, [](int v) { return v; })
                     .collector(sa::route_to([](int v) { return v % 2 != 0; }, even, odd))
                     .start_queue();
    constexpr int n = 200;
    asio::co_spawn(io, send_all(copy, range(n), true), asio::detached);
    asio::co_spawn(io, send_all(split, range(n), true), asio::detached);
    auto copied = run(io, [&] { return copy.wait(); });
    auto split_result = run(io, [&] { return split.wait(); });
    CHECK(copied.collection().forwarded() == 2 * n);
    CHECK(fmt::format("{}", copied.collection()) ==
          fmt::format("forwarded {0} to 'all_a', 0 not forwarded, final event forwarded; "
                      "forwarded {0} to 'all_b', 0 not forwarded, final event forwarded",
                      n));
    CHECK(split_result.collection().forwarded() == n);
    REQUIRE(split_result.collection().targets.size() == 2);
    CHECK(split_result.collection().targets[0].forwarded == n / 2);
    CHECK(split_result.collection().targets[1].forwarded == n / 2);
    // The final event (n - 1, odd) ends `odd` as its final event; `even` is closed.
    CHECK(split_result.collection().targets[1].final_forwarded);
    CHECK_FALSE(split_result.collection().targets[0].final_forwarded);

    for (auto* sink : {&all_a, &all_b}) {
        auto r = run(io, [&] { return sink->wait(); });
        CHECK(r.stats().processed == n);
        REQUIRE(r.final_event());
        CHECK(r.final_event()->payload() == n - 1);
    }
    auto evens = run(io, [&] { return even.wait(); });
    auto odds = run(io, [&] { return odd.wait(); });
    CHECK_FALSE(evens.final_event());
    REQUIRE(odds.final_event());
    for (const auto& entry : evens.collection())
        CHECK(entry.value % 2 == 0);
    for (const auto& entry : odds.collection())
        CHECK(entry.value % 2 != 0);
    CHECK(evens.stats().processed + odds.stats().processed == n);
}

TEST_CASE("flow: fan-in: the last of several feeders to end ends the shared next stage",
          "[flow][fan_in]") {
    asio::io_context io;
    auto merged = pass_through(io, "merged", 3);
    auto make_feeder = [&](std::string name) {
        return sa::emitting_builder<int>(io)
            .name(std::move(name))
            .capacity(2)
            .receiver(sa::serial{}, [](int v) { return v; })
            .collector(sa::forward_to(merged))
            .start_queue();
    };
    auto left = make_feeder("left");
    auto right = make_feeder("right");
    // left ends first, with a final event: it is an ordinary event of `merged`,
    // which goes on taking right's results.
    run(io, [&] { return send_all(left, range(50), true); });
    auto left_result = run(io, [&] { return left.wait(); });
    CHECK(left_result.collection().forwarded() == 50);
    CHECK_FALSE(left_result.collection().targets[0].final_forwarded);
    CHECK(merged.status() == sa::task_status::running);
    CHECK_FALSE(merged.get_sender().is_closed());

    run(io, [&] { return send_all(right, range(70), true); });
    auto right_result = run(io, [&] { return right.wait(); });
    CHECK(right_result.collection().forwarded() == 70);
    CHECK(right_result.collection().targets[0].final_forwarded);
    auto merged_result = run(io, [&] { return merged.wait(); });
    CHECK(merged_result.status() == sa::task_status::completed);
    CHECK(merged_result.stats().processed == 120);
    REQUIRE(merged_result.final_event());
    CHECK(merged_result.final_event()->payload() == 69);
    check_accounting(merged_result);
}

TEST_CASE("flow: an event keeps its id through the stages, so a send's id finds where it ended",
          "[flow][ids]") {
    asio::io_context io;
    auto store = pass_through(io, "store", 2);
    auto check = sa::emitting_builder<int>(io)
                     .name("check")
                     .capacity(2)
                     .receiver(sa::parallel{.workers = sa::min_max{2, 2}},
                               [](int v) -> asio::awaitable<int> {
                                   if (v % 4 == 0) throw std::invalid_argument("multiple of 4");
                                   co_return v;
                               })
                     .collector(sa::forward_to(store))
                     .start_queue();
    auto parse = sa::emitting_builder<int>(io)
                     .name("parse")
                     .capacity(2)
                     .receiver(sa::serial{}, [](int v) { return v; })
                     .collector(sa::forward_to(check))
                     .start_queue();
    std::vector<std::pair<sa::uuid, int>> sent;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 1; i <= 40; ++i)
            sent.emplace_back(co_await parse.send(i), i);
        parse.close();
    });
    run(io, [&] { return parse.wait(); });
    auto checked = run(io, [&] { return check.wait(); });
    auto stored = run(io, [&] { return store.wait(); });
    CHECK(checked.stats().sent == 40);
    check_accounting(stored);
    for (const auto& entry : sent) {
        // Named copies, not structured bindings: Clang 14 cannot capture those in a lambda.
        const sa::uuid id = entry.first;
        const int value = entry.second;
        if (value % 4 == 0) {
            const auto it =
                std::find_if(checked.errors().begin(), checked.errors().end(),
                             [&](const sa::event_error& e) { return e.event_id == id; });
            CHECK(it != checked.errors().end());
            CHECK_FALSE(stored.collection().contains(id));
        } else {
            REQUIRE(stored.collection().get(id) != nullptr);
            CHECK(*stored.collection().get(id) == value);
        }
    }
}

namespace {

/// What the store of the failures_as tests keeps: a value, or the error it stands for.
struct outcome_row {
    int value = 0;
    std::string error;
};

}  // namespace

TEST_CASE("flow: failures_as hands failed and timed-out events on under their ids, final too",
          "[flow][failures_as]") {
    asio::io_context io;
    std::vector<sa::dead_letter<int>> letters;
    auto store = sa::emitting_builder<outcome_row>(io)
                     .name("store")
                     .capacity(3)
                     .receiver(sa::serial{}, [](const outcome_row& row) { return row; })
                     .start_queue();
    auto check =
        sa::emitting_builder<int>(io)
            .name("check")
            .capacity(3)
            .retry(1)
            .dead_letter(
                [&](sa::dead_letter<int>&& letter) { letters.push_back(std::move(letter)); })
            .receiver(sa::serial{.timeout = 250ms},
                      [](int v) -> asio::awaitable<outcome_row> {
                          // 7 waits far past its timeout, which interrupts it.
                          if (v == 7) co_await test_support::after(30s, 0);
                          if (v % 5 == 0) throw std::invalid_argument("multiple of 5");
                          co_return outcome_row{v, {}};
                      })
            .collector(sa::forward_to(store).failures_as([](sa::dead_letter<int>&& bad) {
                return outcome_row{bad.payload.value_or(-1),
                                   fmt::format("{}: {}", bad.error.kind, bad.error.message)};
            }))
            .start_queue();
    std::vector<sa::uuid> ids;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 1; i < 20; ++i)
            ids.push_back(co_await check.send(i));
        ids.push_back(co_await check.send_final(20));  // fails: its value is the final event
    });
    auto checked = run(io, [&] { return check.wait(); });
    auto stored = run(io, [&] { return store.wait(); });

    // In check's own accounting the failures stay failures, and dead letters.
    CHECK(checked.stats().failed == 4);
    CHECK(checked.stats().timed_out == 1);
    CHECK(checked.stats().processed == 15);
    CHECK(checked.stats().dead_lettered == 5);
    CHECK(letters.size() == 5);
    const auto& link = checked.collection();
    CHECK(link.failed_handed_on == 4);
    CHECK(link.timed_out_handed_on == 1);
    CHECK(link.forwarded() == 20);
    CHECK(link.targets.at(0).final_forwarded);
    CHECK(fmt::format("{}", link) ==
          "forwarded 20 to 'store', 0 not forwarded, final event forwarded "
          "(5 of them failures handed on)");

    // The store saw every event, under the id the first send returned.
    CHECK(stored.stats().processed == 20);
    check_accounting(stored);
    for (int i = 1; i <= 20; ++i) {
        const outcome_row* row = stored.collection().get(ids[static_cast<std::size_t>(i - 1)]);
        REQUIRE(row != nullptr);
        CHECK(row->value == i);
        if (i == 7) {
            CHECK(row->error.starts_with("timed_out: "));
        } else if (i % 5 == 0) {
            CHECK(row->error == "failed: multiple of 5");
        } else {
            CHECK(row->error.empty());
        }
    }
    REQUIRE(stored.final_event());
    CHECK(stored.final_event()->id() == ids.back());
    CHECK(stored.final_event()->payload().error == "failed: multiple of 5");

    const auto flow = sa::flow_report::of(checked, stored);
    CHECK(flow.balanced());
    CHECK(flow.entered() == 20);
    CHECK(flow.results() == 20);
    CHECK(flow.failed() == 0);  // handed on: they ended in the store
    CHECK(flow.timed_out() == 0);
    CHECK(flow.dead_lettered() == 5);
}

TEST_CASE("flow: a failures_as that throws hands nothing on, and the event stays failed",
          "[flow][failures_as]") {
    asio::io_context io;
    auto store = pass_through(io, "store", 4);
    auto check = sa::emitting_builder<int>(io)
                     .name("check")
                     .receiver(sa::serial{},
                               [](int v) {
                                   if (v % 2 == 0) throw std::invalid_argument("even");
                                   return v;
                               })
                     .collector(sa::forward_to(store).failures_as([](sa::dead_letter<int>&& bad) {
                         if (*bad.payload == 4) throw std::runtime_error("cannot recover 4");
                         return -*bad.payload;
                     }))
                     .start_queue();
    run(io, [&] { return send_all(check, range(6), false); });
    check.close();
    auto checked = run(io, [&] { return check.wait(); });
    auto stored = run(io, [&] { return store.wait(); });
    CHECK(checked.stats().failed == 3);  // 0, 2, 4
    CHECK(checked.collection().failed_handed_on == 2);
    CHECK(stored.stats().processed == 5);  // 1, 3, 5 and -0, -2
    const auto flow = sa::flow_report::of(checked, stored);
    CHECK(flow.balanced());
    CHECK(flow.failed() == 1);  // 4 ended in check
    CHECK(fmt::format("{}", flow) ==
          "flow of 2 stages: entered=6 results=5 failed=1 ('check' 1) timed_out=0 "
          "cancelled=0 not_forwarded=0");
}

TEST_CASE("flow: flow_report says where every event that entered ended, stage by stage",
          "[flow][flow_report]") {
    asio::io_context io;
    valve slow(io);
    std::size_t lettered = 0;
    // parse -> broadcast to (audit, enrich); enrich -> route to (store, outside): the results
    // for 'outside' leave the flow; store is held and cancelled immediate, so some of enrich's
    // results are not forwarded.
    auto outside = pass_through(io, "outside", 100);
    auto store = held_at(io, slow, 2);
    auto audit = pass_through(io, "audit", 100);
    auto enrich = sa::emitting_builder<int>(io)
                      .name("enrich")
                      .capacity(2)
                      .receiver(sa::serial{},
                                [](int v) {
                                    if (v % 10 == 3) throw std::invalid_argument("ends in 3");
                                    return v;
                                })
                      .collector(sa::route_to([](int v) { return v >= 50; }, store, outside))
                      .start_queue();
    auto parse = sa::emitting_builder<int>(io)
                     .name("parse")
                     .capacity(2)
                     .dead_letter([&](sa::dead_letter<int>&&) { ++lettered; })
                     .receiver(sa::serial{},
                               [](int v) {
                                   if (v % 10 == 9) throw std::invalid_argument("ends in 9");
                                   return v;
                               })
                     .collector(sa::broadcast_to(audit, enrich))
                     .start_queue();
    // Results under 50 go to store, the others to outside. Once nothing moves (store holds
    // its events, the flow is full up to the producer), store is cancelled immediate.
    bool produced = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await send_all(parse, range(100), false);
            produced = true;
            parse.close();
        },
        asio::detached);
    io.poll();
    CHECK_FALSE(produced);
    store.cancel(sa::cancellation_level::immediate);
    slow.open();
    auto parsed = run(io, [&] { return parse.wait(); });
    CHECK(produced);
    auto audited = run(io, [&] { return audit.wait(); });
    auto enriched = run(io, [&] { return enrich.wait(); });
    auto stored = run(io, [&] { return store.wait(); });
    auto outside_result = run(io, [&] { return outside.wait(); });

    const auto flow = sa::flow_report::of(parsed, audited, enriched, stored);
    INFO(fmt::format("{}", flow));
    for (const auto& stage : flow.stages())
        INFO(fmt::format("{}", stage));
    CHECK(flow.balanced());
    CHECK(flow.entered() == parsed.stats().sent);
    CHECK(flow.copies() == parsed.stats().processed);  // two next stages: one copy each
    CHECK(flow.results() == audited.stats().processed + stored.stats().processed);
    CHECK(flow.failed() == parsed.stats().failed + enriched.stats().failed);
    CHECK(flow.cancelled() == parsed.stats().cancelled + audited.stats().cancelled +
                                  enriched.stats().cancelled + stored.stats().cancelled);
    CHECK(flow.not_forwarded() == enriched.collection().not_forwarded());
    CHECK(flow.left() == outside_result.stats().sent);
    CHECK(flow.dead_lettered() == lettered);
    CHECK(stored.status() == sa::task_status::cancelled);
    CHECK_FALSE(flow.completed());
    // Once outside is a stage, nothing leaves: its events are results.
    const auto whole = sa::flow_report::of(parsed, audited, enriched, stored, outside_result);
    CHECK(whole.balanced());
    CHECK(whole.left() == 0);
    CHECK(whole.entered() == flow.entered());
    CHECK(whole.results() == flow.results() + outside_result.stats().processed);

    const std::string stage_line = fmt::format("{}", flow.stages()[2]);
    CHECK(stage_line.starts_with("stage 'enrich' completed: sent="));
    CHECK(stage_line.find(fmt::format("; forwarded {} to 'store'",
                                      enriched.collection().targets[0].forwarded)) !=
          std::string::npos);
    const std::string line = fmt::format("{}", flow);
    CHECK(line.starts_with(fmt::format("flow of 4 stages: entered=100 copies={} results={} "
                                       "failed={} ('parse' {}, 'enrich' {})",
                                       flow.copies(), flow.results(), flow.failed(),
                                       parsed.stats().failed, enriched.stats().failed)));
    CHECK(line.find(fmt::format(" left={}", flow.left())) != std::string::npos);
}

TEST_CASE("flow: tracing names each stage's links when it starts and what they did when it ends",
          "[flow][tracing]") {
    asio::io_context io;
    std::vector<std::string> lines;
    auto sink = [&](const sa::trace_record& r) { lines.push_back(fmt::format("{}", r)); };
    auto store = pass_through(io, "store", 4);
    auto parse =
        sa::emitting_builder<int>(io)
            .name("parse")
            .tracing(sink)
            .receiver(sa::serial{}, [](int v) { return v; })
            .collector(sa::forward_to(store).failures_as([](sa::dead_letter<int>&&) { return 0; }))
            .start_queue();
    run(io, [&] { return send_all(parse, range(3), true); });
    run(io, [&] { return parse.wait(); });
    run(io, [&] { return store.wait(); });
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("task 'parse' started: ") != std::string::npos);
    CHECK(lines[0].ends_with(" links=forward_to('store').failures_as(...)"));
    CHECK(lines[1].find("task 'parse' completed: sent=3 ") != std::string::npos);
    CHECK(lines[1].ends_with("; forwarded 3 to 'store', 0 not forwarded, final event forwarded"));
}

namespace {

/// parse -> enrich -> store, store held at `slow`; each stage's channel holds 4.
struct held_flow {
    explicit held_flow(asio::io_context& io, valve& slow)
        : store(held_at(io, slow, 4)),
          enrich(sa::emitting_builder<int>(io)
                     .name("enrich")
                     .capacity(4)
                     .receiver(sa::parallel{.workers = sa::min_max{2, 2}}, [](int v) { return v; })
                     .collector(sa::forward_to(store))
                     .start_queue()),
          parse(sa::emitting_builder<int>(io)
                    .name("parse")
                    .capacity(4)
                    .receiver(sa::serial{}, [](int v) { return v; })
                    .collector(sa::forward_to(enrich))
                    .start_queue()) {}

    sa::emitting_task<int, sa::keyed_collection<int>> store;
    sa::emitting_task<int, sa::link_report> enrich;
    sa::emitting_task<int, sa::link_report> parse;
};

/// Sends 0, 1, ... into `task` until it refuses one; counts what it accepted in `accepted`.
asio::awaitable<void> send_until_closed(sa::emitting_task<int, sa::link_report> task,
                                        std::size_t& accepted) {
    for (int i = 0;; ++i) {
        sweet_async::error_code ec;
        co_await task.async_send(i, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        ++accepted;
    }
}

}  // namespace

TEST_CASE("flow: cancel(immediate) of a flow reaches every stage, every event accounted for",
          "[flow][cancel]") {
    asio::io_context io;
    valve slow(io);
    held_flow f(io, slow);
    const sa::flow stages(f.parse, f.enrich, f.store.get_sender());
    std::size_t accepted = 0;
    asio::co_spawn(io, send_until_closed(f.parse, accepted), asio::detached);
    io.poll();  // full up to the producer
    CHECK(f.store.stats().sent == 5);
    CHECK(fmt::format("{}", stages).starts_with("'parse' running "));
    stages.cancel(sa::cancellation_level::immediate);
    auto parsed = run(io, [&] { return f.parse.wait(); });
    auto enriched = run(io, [&] { return f.enrich.wait(); });
    auto stored = run(io, [&] { return f.store.wait(); });
    CHECK(stages.ended());
    for (const auto& stage : stages.progress())
        CHECK(stage.status == sa::task_status::cancelled);
    CHECK(stored.stats().processed == 0);  // the held event was interrupted
    const auto flow = sa::flow_report::of(parsed, enriched, stored);
    CHECK(flow.balanced());
    CHECK(flow.entered() == accepted);
    CHECK(flow.results() == 0);
    CHECK(flow.cancelled() + flow.not_forwarded() == accepted);
    CHECK(fmt::format("{}", stages) ==
          fmt::format("'parse' cancelled {0}/{0} | 'enrich' cancelled {1}/{1} | "
                      "'store' cancelled {2}/{2}",
                      parsed.stats().sent, enriched.stats().sent, stored.stats().sent));
}

TEST_CASE("flow: cancel(graceful) of a flow stops its entry and drains the others, nothing lost",
          "[flow][cancel]") {
    asio::io_context io;
    valve slow(io);
    held_flow f(io, slow);
    const sa::flow stages(f.parse, f.enrich, f.store);
    std::size_t accepted = 0;
    asio::co_spawn(io, send_until_closed(f.parse, accepted), asio::detached);
    io.poll();
    stages.cancel(sa::cancellation_level::graceful);  // parse only: the others are fed
    CHECK(f.parse.get_sender().is_closed());
    CHECK_FALSE(f.enrich.get_sender().is_closed());
    slow.open();
    auto parsed = run(io, [&] { return f.parse.wait(); });
    auto enriched = run(io, [&] { return f.enrich.wait(); });
    auto stored = run(io, [&] { return f.store.wait(); });
    CHECK(parsed.status() == sa::task_status::cancelled);
    CHECK(enriched.status() == sa::task_status::completed);
    CHECK(stored.status() == sa::task_status::completed);
    const auto flow = sa::flow_report::of(parsed, enriched, stored);
    CHECK(flow.balanced());
    CHECK(flow.entered() == accepted);
    CHECK(flow.results() == accepted);  // everything that entered went through
    CHECK(flow.ended() == flow.results());
}
