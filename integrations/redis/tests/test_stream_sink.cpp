// redis::stream_sink against a real redis-server: a batched task's payloads written as stream
// entries (one pipelined write per batch), trimming, and a lost connection retried by the task.
#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/redis.hpp>

#include "redis_server.hpp"
#include "sweet_async_catch.hpp"

namespace sa = sweet_async;
namespace redis = sweet_async::redis;
using namespace std::chrono_literals;
using redis_test::redis_server;

namespace {

std::vector<std::pair<std::string, std::string>> as_fields(const int& n) {
    return {{"n", std::to_string(n)}};
}

/// Runs a batched task that writes `0 .. count-1` through `sink`, and returns its result.
template <class Sink>
auto write_numbers(asio::io_context& io, Sink& sink, int count, unsigned retry = 0) {
    auto task = sa::emitting_builder<int>(io)
                    .name("sink")
                    .capacity(256)
                    .retry(retry, sa::backoff{.initial = 20ms})
                    .receiver(sa::batched{.batch_size = 100, .window = 5ms}, sink.writer(as_fields))
                    .start_queue();
    auto result = asio::co_spawn(
        io,
        [](auto task, int count) -> asio::awaitable<typename decltype(task)::result_type> {
            for (int i = 0; i < count; ++i)
                co_await task.send(i);
            task.close();
            co_return co_await task.wait();
        }(task, count),
        asio::use_future);
    io.run();
    io.restart();
    return result.get();
}

redis::reply command(const redis_server& server, std::vector<std::string> args) {
    asio::io_context io;
    redis::connection c(io.get_executor());
    auto connected = c.async_connect(server.endpoint(), asio::use_future);
    io.run();
    io.restart();
    connected.get();
    auto r = c.async_execute(std::move(args), asio::use_future);
    io.run();
    return r.get();
}

}  // namespace

TEST_CASE("redis stream_sink: a batched task's payloads become entries, one pipelined write per "
          "batch, each event's result its entry id",
          "[redis][sink]") {
    redis_server server;
    asio::io_context io;
    redis::stream_sink sink(io.get_executor(), server.endpoint(), {.stream = "out"});
    const auto r = write_numbers(io, sink, 1000);
    CHECK(r.status() == sa::task_status::completed);
    CHECK(r.stats().processed == 1000);
    CHECK(sink.written() == 1000);
    CHECK(command(server, {"XLEN", "out"}).integer == 1000);

    // The results are the entries' ids, and the entries hold the payloads.
    std::set<std::string> ids;
    for (const auto& entry : r.collection())
        ids.insert(entry.value);
    CHECK(ids.size() == 1000);
    const auto written = redis::parse_entries(command(server, {"XRANGE", "out", "-", "+"}));
    REQUIRE(written.size() == 1000);
    std::set<int> numbers;
    for (const auto& e : written) {
        CHECK(ids.contains(e.id));
        numbers.insert(std::stoi(std::string(*e.field("n"))));
    }
    CHECK(numbers.size() == 1000);
    CHECK(*numbers.begin() == 0);
    CHECK(*numbers.rbegin() == 999);
}

TEST_CASE("redis stream_sink: max_length trims the stream as it grows", "[redis][sink]") {
    redis_server server;
    asio::io_context io;
    redis::stream_sink exact(io.get_executor(), server.endpoint(),
                             {.stream = "exact", .max_length = 100, .exact_trim = true});
    write_numbers(io, exact, 1000);
    CHECK(command(server, {"XLEN", "exact"}).integer == 100);
    // The newest are kept.
    const auto last =
        redis::parse_entries(command(server, {"XREVRANGE", "exact", "+", "-", "COUNT", "1"}));
    CHECK(last.at(0).field("n") == "999");

    redis::stream_sink about(io.get_executor(), server.endpoint(),
                             {.stream = "about", .max_length = 100});
    write_numbers(io, about, 5000);
    const auto length = command(server, {"XLEN", "about"}).integer;
    CHECK(length >= 100);
    CHECK(length < 5000);
}

TEST_CASE("redis stream_sink: a connection lost between batches is made again by the task's "
          "retry, and every payload is written at least once",
          "[redis][sink][faults]") {
    redis_server server(/*persistent=*/true);
    asio::io_context io;
    redis::stream_sink sink(io.get_executor(), server.endpoint(), {.stream = "out"});
    CHECK(write_numbers(io, sink, 300).stats().processed == 300);
    server.restart();  // the sink's connection is now dead; it learns so on its next write
    const auto r = write_numbers(io, sink, 300, /*retry=*/3);
    CHECK(r.stats().processed == 300);
    CHECK(r.stats().retries >= 1);
    CHECK(command(server, {"XLEN", "out"}).integer >= 600);
}

TEST_CASE("redis stream_sink: invalid options are refused naming the setting", "[redis][sink]") {
    asio::io_context io;
    const asio::ip::tcp::endpoint nowhere{asio::ip::address_v4::loopback(), 1};
    CHECK_THROWS_WITH(redis::stream_sink(io.get_executor(), nowhere, {.stream = ""}),
                      "redis::sink_options.stream must name a stream, got an empty string");
    CHECK_THROWS_WITH(
        redis::stream_sink(io.get_executor(), nowhere, {.stream = "s", .max_length = 0}),
        "redis::sink_options.max_length must be at least 1, got 0");
}
