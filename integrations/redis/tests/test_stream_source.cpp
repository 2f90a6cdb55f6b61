// redis::stream_source against a real redis-server: a task fed by a consumer group, each entry
// acknowledged once its event has an outcome; decode failures and poison entries to the
// dead-letter stream; a server restart mid-stream loses nothing.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/redis.hpp>

#include "redis_server.hpp"
#include "sweet_async_catch.hpp"

namespace sa = sweet_async;
namespace redis = sweet_async::redis;
using namespace std::chrono_literals;
using redis_test::redis_server;
using redis_test::scene;

namespace {

/// The decoder of the tests' entries: the number in field "n".
int decode_n(const redis::stream_entry& e) {
    const auto n = e.field("n");
    if (!n) throw std::invalid_argument(fmt::format("entry {} has no field 'n'", e.id));
    return std::stoi(std::string(*n));
}

}  // namespace

TEST_CASE("redis stream_source: one worker processes and acknowledges every entry",
          "[redis][stream]") {
    redis_server server;
    scene redis_cli(server);
    const auto ids = redis_cli.add("numbers", 0, 1000);

    asio::io_context io;
    redis::stream_source source(io.get_executor(), server.endpoint(),
                                {.stream = "numbers",
                                 .group = "doublers",
                                 .consumer = "w1",
                                 .count = 64,
                                 .end_when_drained = true});
    auto task = sa::emitting_builder<redis::stream_entry>(io)
                    .name("doubler")
                    .capacity(128)
                    .emitter(source.reader())
                    .dead_letter(source.dead_letters())
                    .receiver(sa::serial{}, redis::decoding(decode_n, [](int n) { return 2 * n; }))
                    .collector(redis::acknowledging<int>(source))
                    .start_queue();
    auto result = asio::co_spawn(io, task.wait(), asio::use_future);
    io.run();
    const auto r = result.get();
    CHECK(r.status() == sa::task_status::completed);
    CHECK(r.stats().processed == 1000);
    CHECK(r.stats().balanced());
    const auto& doubled = r.collection();
    REQUIRE(doubled.size() == 1000);
    for (std::size_t i = 0; i < ids.size(); ++i)
        CHECK(doubled.at(ids[i]) == 2 * static_cast<int>(i));

    io.restart();
    auto settled = source.async_settle(asio::use_future);
    io.run();
    settled.get();
    CHECK(redis_cli.pending("numbers", "doublers") == 0);
    CHECK(source.stats().acknowledged == 1000);
    CHECK(source.stats().read == 1000);
}

TEST_CASE("redis stream_source: an entry that does not decode goes to the dead-letter stream "
          "with its error and is acknowledged",
          "[redis][stream][dead_letter]") {
    redis_server server;
    scene redis_cli(server);
    redis_cli.add("numbers", 0, 10);
    const std::string bad = redis_cli({"XADD", "numbers", "*", "text", "no number here"}).text;
    redis_cli.add("numbers", 10, 10);

    asio::io_context io;
    redis::stream_source source(
        io.get_executor(), server.endpoint(),
        {.stream = "numbers", .group = "g", .consumer = "w1", .end_when_drained = true});
    auto task = sa::emitting_builder<redis::stream_entry>(io)
                    .emitter(source.reader())
                    .dead_letter(source.dead_letters())
                    .receiver(sa::parallel{.workers = {1, 4}},
                              redis::decoding(decode_n, [](int n) { return n; }))
                    .collector(redis::acknowledging<int>(source))
                    .start_queue();
    auto result = asio::co_spawn(io, task.wait(), asio::use_future);
    io.run();
    const auto r = result.get();
    CHECK(r.stats().processed == 20);
    CHECK(r.stats().failed == 1);
    CHECK(r.stats().dead_lettered == 1);
    io.restart();
    auto settled = source.async_settle(asio::use_future);
    io.run();
    settled.get();
    CHECK(redis_cli.pending("numbers", "g") == 0);

    const redis::reply dead = redis_cli({"XRANGE", "numbers:dead", "-", "+"});
    REQUIRE(dead.elements.size() == 1);
    const auto letter = redis::parse_entries(dead).at(0);
    CHECK(letter.field("entry") == bad);
    CHECK(letter.field("error") == fmt::format("entry {} has no field 'n'", bad));
    CHECK(letter.field("attempts") == "1");
    CHECK(letter.field("field:text") == "no number here");
    CHECK(source.stats().dead_lettered == 1);
}

TEST_CASE("redis stream_source: a poison entry delivered more than max_deliveries times goes to "
          "the dead-letter stream unprocessed",
          "[redis][stream][dead_letter]") {
    redis_server server;
    scene redis_cli(server);
    redis_cli({"XGROUP", "CREATE", "jobs", "g", "0", "MKSTREAM"});
    const std::string poison = redis_cli.add("jobs", 666, 1).at(0);
    // A worker that took it and died, twice over: delivered three times, never acknowledged.
    redis_cli({"XREADGROUP", "GROUP", "g", "ghost", "COUNT", "1", "STREAMS", "jobs", ">"});
    redis_cli({"XCLAIM", "jobs", "g", "ghost", "0", poison});
    redis_cli({"XCLAIM", "jobs", "g", "ghost", "0", poison});
    const auto healthy = redis_cli.add("jobs", 1, 5);

    asio::io_context io;
    std::set<int> seen;
    redis::stream_source source(io.get_executor(), server.endpoint(),
                                {.stream = "jobs",
                                 .group = "g",
                                 .consumer = "w1",
                                 .claim_idle = 1ms,
                                 .max_deliveries = 3,
                                 .end_when_drained = true});
    auto task = sa::emitting_builder<redis::stream_entry>(io)
                    .emitter(source.reader())
                    .dead_letter(source.dead_letters())
                    .receiver(sa::serial{}, redis::decoding(decode_n,
                                                            [&seen](int n) {
                                                                seen.insert(n);
                                                                return n;
                                                            }))
                    .collector(redis::acknowledging<int>(source))
                    .start_queue();
    auto result = asio::co_spawn(io, task.wait(), asio::use_future);
    io.run();
    const auto r = result.get();
    CHECK(r.stats().processed == 5);
    CHECK(seen == std::set<int>{1, 2, 3, 4, 5});
    CHECK(source.stats().reclaimed == 1);
    io.restart();
    auto settled = source.async_settle(asio::use_future);
    io.run();
    settled.get();
    CHECK(redis_cli.pending("jobs", "g") == 0);
    const auto letters = redis::parse_entries(redis_cli({"XRANGE", "jobs:dead", "-", "+"}));
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].field("entry") == poison);
    CHECK(letters[0].field("error") == "delivered 4 times, more than max_deliveries (3)");
    CHECK(letters[0].field("attempts") == "0");
}

TEST_CASE("redis stream_source: the server restarted mid-stream loses no entry: the source "
          "reconnects (authenticating again as an ACL user, over TLS too), re-reads what it was "
          "given, and "
          "acknowledges everything",
          "[redis][stream][faults][auth]") {
    // Without credentials; as an ACL user limited to the stream's commands and keys on a server
    // with a password; and so over TLS: the reconnection must authenticate (and shake hands)
    // again.
#ifdef SWEET_ASYNC_REDIS_TESTS_TLS
    const std::string access = GENERATE("plain", "ACL user", "ACL user over TLS");
#else
    const std::string access = GENERATE("plain", "ACL user");
#endif
    INFO(access);
    const bool guarded = access != "plain";
    const bool tls = access == "ACL user over TLS";
    std::vector<std::string> arguments;
    if (guarded) {
        arguments = {"--requirepass", "admin-pw",  "--user",   "worker", "on",
                     ">worker-pw",    "~numbers*", "+@stream", "+ping"};
    }
    std::optional<redis_test::tls_listener> listener;
    if (tls) listener.emplace();
    redis_server server(/*persistent=*/true, arguments, guarded ? "admin-pw" : "", listener);
    const auto where = tls       ? server.tls_address("worker", std::string("worker-pw"))
                       : guarded ? server.address("worker", std::string("worker-pw"))
                                 : redis::server::at(server.endpoint());
    scene redis_cli(server);
    constexpr int total = 3000;
    redis_cli.add("numbers", 0, total);

    asio::io_context io;
    std::set<int> seen;
    std::thread restarter;
    redis::stream_source source(io.get_executor(), where,
                                {.stream = "numbers",
                                 .group = "g",
                                 .consumer = "w1",
                                 .count = 50,
                                 .end_when_drained = true});
    auto task =
        sa::emitting_builder<redis::stream_entry>(io)
            .capacity(64)
            .emitter(source.reader())
            .dead_letter(source.dead_letters())
            .receiver(sa::serial{},
                      redis::decoding(decode_n,
                                      [&](int n) -> asio::awaitable<int> {
                                          // Yield, so that the restart happens while the stream
                                          // is flowing.
                                          asio::steady_timer tick(
                                              co_await asio::this_coro::executor, 20us);
                                          co_await tick.async_wait(asio::use_awaitable);
                                          if (seen.insert(n).second && seen.size() == 1000) {
                                              restarter = std::thread([&] { server.restart(); });
                                          }
                                          co_return n;
                                      }))
            .collector(redis::acknowledging<int>(source))
            .start_queue();
    auto result = asio::co_spawn(io, task.wait(), asio::use_future);
    io.run();
    restarter.join();
    const auto r = result.get();
    INFO(r.failure());
    CHECK(r.status() == sa::task_status::completed);
    CHECK(r.stats().balanced());
    CHECK(seen.size() == total);            // every entry processed, some perhaps twice
    CHECK(r.collection().size() == total);  // a result per entry, whatever the redeliveries
    CHECK(source.stats().reconnects >= 1);
    io.restart();
    auto settled = source.async_settle(asio::use_future);
    io.run();
    settled.get();
    scene after(server);
    CHECK(after.pending("numbers", "g") == 0);
    CHECK(after({"XLEN", "numbers"}).integer == total);
}

TEST_CASE("redis stream_source: invalid options are refused naming the setting",
          "[redis][stream]") {
    asio::io_context io;
    const asio::ip::tcp::endpoint nowhere{asio::ip::address_v4::loopback(), 1};
    CHECK_THROWS_WITH(redis::stream_source(io.get_executor(), nowhere,
                                           {.stream = "s", .group = "", .consumer = "c"}),
                      "redis::stream_options.group must name a consumer group, got an empty "
                      "string");
    CHECK_THROWS_WITH(
        redis::stream_source(io.get_executor(), nowhere,
                             {.stream = "s", .group = "g", .consumer = "c", .count = 0}),
        "redis::stream_options.count must be at least 1, got 0");
}
