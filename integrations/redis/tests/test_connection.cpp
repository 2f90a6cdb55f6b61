// sweet_async::redis::connection against a real redis-server: commands and replies, pipelining
// in order from several threads, error replies, and the connection's own failures (refused,
// lost with commands in flight, a reply that is not RESP), each ending in an error, never a hang.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <future>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include <sweet_async/redis/connection.hpp>

#include "redis_server.hpp"
#include "sweet_async_catch.hpp"

namespace redis = sweet_async::redis;
using redis_test::redis_server;

namespace {

/// Runs `io` on a thread of its own while the test waits on futures.
struct running {
    explicit running(asio::io_context& io)
        : guard(io.get_executor()),
          thread([&io] { io.run(); }) {}
    ~running() {
        guard.reset();
        thread.join();
    }
    asio::executor_work_guard<asio::io_context::executor_type> guard;
    std::thread thread;
};

redis::reply execute(redis::connection& c, std::vector<std::string> command) {
    return c.async_execute(std::move(command), asio::use_future).get();
}

}  // namespace

TEST_CASE("redis connection: commands and replies of every kind, binary-safe", "[redis]") {
    redis_server server;
    asio::io_context io;
    running thread(io);
    redis::connection c(io.get_executor());
    c.async_connect(server.endpoint(), asio::use_future).get();

    const redis::reply pong = execute(c, {"PING"});
    CHECK(pong.kind == redis::reply_kind::status);
    CHECK(pong.text == "PONG");

    const std::string binary("a\0b\r\nc", 6);
    CHECK(execute(c, {"SET", "key", binary}).text == "OK");
    const redis::reply got = execute(c, {"GET", "key"});
    CHECK(got.kind == redis::reply_kind::string);
    CHECK(got.text == binary);
    CHECK(execute(c, {"GET", "missing"}).is_nil());
    CHECK(execute(c, {"RPUSH", "list", "x", "y"}).integer == 2);
    const redis::reply list = execute(c, {"LRANGE", "list", "0", "-1"});
    REQUIRE(list.kind == redis::reply_kind::array);
    CHECK(fmt::format("{}", list) == "[\"x\", \"y\"]");

    // A command the server refuses is an error reply; the connection goes on.
    const redis::reply refused = execute(c, {"NO_SUCH_COMMAND"});
    CHECK(refused.is_error());
    CHECK(refused.text.starts_with("ERR unknown command"));
    CHECK(execute(c, {"PING"}).text == "PONG");
}

TEST_CASE("redis connection: pipelined commands from several threads complete in order",
          "[redis][threads]") {
    redis_server server;
    asio::io_context io;
    running thread(io);
    redis::connection c(io.get_executor());
    c.async_connect(server.endpoint(), asio::use_future).get();

    // One thread issues 10 000 INCRs before awaiting any: the replies come back 1, 2, 3, ...
    constexpr int count = 10'000;
    std::vector<std::future<redis::reply>> replies;
    replies.reserve(count);
    for (int i = 0; i < count; ++i)
        replies.push_back(c.async_execute({"INCR", "counter"}, asio::use_future));
    bool in_order = true;
    for (int i = 0; i < count; ++i)
        in_order = in_order && replies[static_cast<std::size_t>(i)].get().integer == i + 1;
    CHECK(in_order);

    // Four threads at once, each its own key: each thread's replies are in its order, and
    // every command is counted once.
    std::vector<std::thread> threads;
    std::atomic<int> out_of_order{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::vector<std::future<redis::reply>> mine;
            for (int i = 0; i < 2'000; ++i)
                mine.push_back(c.async_execute({"INCR", fmt::format("k{}", t)}, asio::use_future));
            for (int i = 0; i < 2'000; ++i) {
                if (mine[static_cast<std::size_t>(i)].get().integer != i + 1) ++out_of_order;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(out_of_order == 0);
    CHECK(execute(c, {"GET", "k3"}).text == "2000");
}

TEST_CASE("redis connection: a command before connecting, and a refused connect, fail with an "
          "error",
          "[redis][faults]") {
    asio::io_context io;
    running thread(io);
    redis::connection c(io.get_executor());
    try {
        execute(c, {"PING"});
        FAIL("a command on a connection never opened succeeded");
    } catch (const sweet_async::system_error& e) {
        CHECK(e.code() == redis::error::not_connected);
        CHECK(std::string(e.what()).find("the connection is not open") != std::string::npos);
    }
    const asio::ip::tcp::endpoint nobody{asio::ip::address_v4::loopback(), redis_test::free_port()};
    try {
        c.async_connect(nobody, asio::use_future).get();
        FAIL("connected to a port nobody listens on");
    } catch (const sweet_async::system_error& e) {
        CHECK(e.code() == asio::error::connection_refused);
    }
}

TEST_CASE("redis connection: a server killed with commands in flight fails them and, after a "
          "restart, connecting again works",
          "[redis][faults]") {
    redis_server server;
    asio::io_context io;
    running thread(io);
    redis::connection c(io.get_executor());
    c.async_connect(server.endpoint(), asio::use_future).get();
    CHECK(execute(c, {"SET", "before", "1"}).text == "OK");

    // BLPOP on an empty list waits on the server forever: in flight when the server dies.
    auto blocked = c.async_execute({"BLPOP", "nothing", "0"}, asio::use_future);
    auto behind = c.async_execute({"PING"}, asio::use_future);
    server.stop(SIGKILL);
    for (auto* pending : {&blocked, &behind}) {
        try {
            pending->get();
            FAIL("a command in flight on a dead server completed");
        } catch (const sweet_async::system_error& e) {
            CHECK(e.code() == redis::error::closed_by_server);
        }
    }
    // Later commands fail at once with the same error rather than waiting.
    try {
        execute(c, {"PING"});
        FAIL("a command on a failed connection succeeded");
    } catch (const sweet_async::system_error& e) {
        CHECK(e.code() == redis::error::closed_by_server);
    }

    server.restart();
    c.async_connect(server.endpoint(), asio::use_future).get();
    CHECK(execute(c, {"PING"}).text == "PONG");
}

TEST_CASE("redis connection: a reply that is not RESP fails the command with protocol",
          "[redis][faults]") {
    // A fake server that answers anything with bytes no Redis would send.
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    asio::co_spawn(
        io,
        [&acceptor]() -> asio::awaitable<void> {
            auto peer = co_await acceptor.async_accept(asio::use_awaitable);
            std::array<char, 256> request{};
            co_await peer.async_read_some(asio::buffer(request), asio::use_awaitable);
            co_await asio::async_write(peer, asio::buffer(std::string_view("?garbage\r\n")),
                                       asio::use_awaitable);
            co_await peer.async_read_some(asio::buffer(request), asio::use_awaitable);
        },
        [](std::exception_ptr) {});
    running thread(io);
    redis::connection c(io.get_executor());
    c.async_connect(acceptor.local_endpoint(), asio::use_future).get();
    try {
        execute(c, {"PING"});
        FAIL("a garbled reply was accepted");
    } catch (const sweet_async::system_error& e) {
        CHECK(e.code() == redis::error::protocol);
    }
    c.close();
}
