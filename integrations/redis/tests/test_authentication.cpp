// Credentials against a real redis-server: a password (requirepass), ACL users with and without
// the permissions a worker needs, redis:// URLs, and the password never printed.
#include <sweet_async/sweet_async.hpp>

#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/redis.hpp>

#include "redis_server.hpp"
#include "sweet_async_catch.hpp"

namespace sa = sweet_async;
namespace redis = sweet_async::redis;
using redis_test::redis_server;
using redis_test::scene;

namespace {

constexpr const char* admin_password = "s3cret-admin-pw";
constexpr const char* worker_password = "w0rker-pw";

/// A server whose default user needs `admin_password`, with the ACL users `worker` (the
/// commands a stream worker needs, on keys jobs*) and `reader` (the same but XREADGROUP).
redis_server guarded_server() {
    // On redis-server's command line an option takes the words up to the next "--".
    std::vector<std::string> arguments{"--requirepass", admin_password};
    for (const char* user : {"worker", "reader"}) {
        std::vector<std::string> rules{
            "--user",      user,    "on",      std::string(">") + worker_password,
            "~jobs*",      "+ping", "+select", "+xgroup",
            "+xautoclaim", "+xack", "+xadd",   "+xpending"};
        if (std::string(user) == "worker") rules.emplace_back("+xreadgroup");
        arguments.insert(arguments.end(), rules.begin(), rules.end());
    }
    return redis_server(false, std::move(arguments), admin_password);
}

/// What connecting with `where` completes with.
sa::error_code connect_error(asio::io_context& io, redis::connection& c, redis::server where) {
    auto done = c.async_connect(std::move(where), asio::use_future);
    io.restart();
    io.run();
    try {
        done.get();
        return {};
    } catch (const sa::system_error& e) {
        return e.code();
    }
}

}  // namespace

TEST_CASE("redis server URLs: every part read, bad ones named, the password never shown",
          "[redis][url]") {
    const auto full = redis::server::from_url("redis://worker:p%40ss%3Aword@cache.local:6380/3");
    CHECK(full.host == "cache.local");
    CHECK(full.port == 6380);
    CHECK(full.username == "worker");
    CHECK(full.password == "p@ss:word");
    CHECK(full.database == 3);
    CHECK(fmt::format("{}", full) == "redis://worker:***@cache.local:6380/3");

    const auto password_only = redis::server::from_url("redis://:hunter2@10.0.0.5");
    CHECK(password_only.username.empty());
    CHECK(password_only.password == "hunter2");
    CHECK(password_only.port == 6379);
    CHECK(password_only.database == 0);
    CHECK(fmt::format("{}", password_only) == "redis://:***@10.0.0.5:6379/0");

    const auto ipv6 = redis::server::from_url("redis://[::1]:7000/");
    CHECK(ipv6.host == "::1");
    CHECK(ipv6.port == 7000);
    CHECK(fmt::format("{}", ipv6) == "redis://[::1]:7000/0");
    CHECK(fmt::format("{}", redis::server::from_url("redis://h")) == "redis://h:6379/0");
    CHECK_FALSE(full.tls.has_value());

    // rediss://: TLS with the default options (the system's authorities, the host checked).
    const auto secure = redis::server::from_url("rediss://worker:p%40ss@cache.local:6380/1");
    REQUIRE(secure.tls.has_value());
    CHECK(secure.tls->verify_peer);
    CHECK(secure.tls->ca_file.empty());
    CHECK(secure.password == "p@ss");
    CHECK(secure.database == 1);
    CHECK(fmt::format("{}", secure) == "rediss://worker:***@cache.local:6380/1");
    // An '@' in the password needs no escape: the user part ends at the last one.
    CHECK(redis::server::from_url("redis://u:a@b@h:1").password == "a@b");

    auto refusal = [](const char* url) {
        try {
            (void)redis::server::from_url(url);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(refusal("http://u:topsecret@h") ==
          "redis::server::from_url: expected the scheme redis:// or rediss://, got 'http://'");
    CHECK(refusal("h:6379") ==
          "redis::server::from_url: expected a URL starting with redis:// or rediss://");
    CHECK(refusal("rediss://u:topsecret@h:x") ==
          "redis::server::from_url: the port must be a number from 0 to 65535, got 'x'");
    CHECK(refusal("redis://u:topsecret@:6379") == "redis::server::from_url: the URL names no host");
    CHECK(refusal("redis://u:topsecret@h:70000") ==
          "redis::server::from_url: the port must be a number from 0 to 65535, got '70000'");
    CHECK(refusal("redis://h/x") ==
          "redis::server::from_url: the database must be a number from 0 to 1073741824, got 'x'");
    CHECK(refusal("redis://u:top%zzsecret@h") ==
          "redis::server::from_url: the password has a '%' not followed by two hex digits");
    CHECK(refusal("redis://[::1:6379") ==
          "redis::server::from_url: an IPv6 address in '[' lacks its ']'");
}

TEST_CASE("redis connection: a password and an ACL user are presented on connecting, and wrong "
          "ones fail at once with authentication_failed, naming no secret",
          "[redis][auth]") {
    auto server = guarded_server();
    asio::io_context io;
    redis::connection c(io.get_executor());

    CHECK(connect_error(io, c, server.address()) == sa::error_code{});
    auto pong = c.async_execute({"PING"}, asio::use_future);
    io.restart();
    io.run();
    CHECK(pong.get().text == "PONG");

    CHECK(connect_error(io, c, server.address("worker", worker_password)) == sa::error_code{});
    auto whoami = c.async_execute({"ACL", "WHOAMI"}, asio::use_future);
    io.restart();
    io.run();
    CHECK(whoami.get().is_error());  // worker may not run ACL: proves who we are

    const auto wrong = connect_error(io, c, server.address({}, std::string("not-the-password")));
    CHECK(wrong == redis::error::authentication_failed);
    CHECK(connect_error(io, c, server.address("nobody", std::string(worker_password))) ==
          redis::error::authentication_failed);
    // The connection is closed after a refusal: commands fail, they do not run unauthenticated.
    auto after = c.async_execute({"PING"}, asio::use_future);
    io.restart();
    io.run();
    CHECK_THROWS_AS(after.get(), sa::system_error);

    // What a failure prints names the server and the user, never the secret.
    const auto where = server.address("worker", std::string(worker_password));
    const std::string printed =
        sa::system_error(wrong, fmt::format("connecting to {}", where)).what();
    // (boost::system::system_error appends " [category:value]" to what(); std's does not.)
    CHECK(printed.starts_with(
        fmt::format("connecting to redis://worker:***@127.0.0.1:{}/0: the server "
                    "refused the credentials (AUTH): wrong password, or unknown or "
                    "disabled user",
                    server.endpoint().port())));
}

TEST_CASE("redis stream_source: an ACL user with exactly a worker's permissions processes and "
          "acknowledges every entry",
          "[redis][auth][stream]") {
    auto server = guarded_server();
    scene redis_cli(server);
    redis_cli.add("jobs", 0, 200);

    const auto [result, stats] =
        redis_test::run_drained_worker(server.address("worker", worker_password), "jobs");
    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().processed == 200);
    CHECK(stats.acknowledged == 200);
    CHECK(stats.reconnects == 0);
    CHECK(redis_cli.pending("jobs", "g") == 0);
}

TEST_CASE("redis stream_source: a wrong password, a missing password and a missing permission "
          "each end the reader at once with its named error",
          "[redis][auth][stream]") {
    auto server = guarded_server();
    scene redis_cli(server);
    redis_cli.add("jobs", 0, 10);

    {
        const auto where = server.address("worker", std::string("Zq9-not-it"));
        const auto [result, stats] = redis_test::run_drained_worker(where, "jobs");
        CHECK(result.status() == sa::task_status::failed);
        CHECK(stats.reconnects == 0);
        CHECK(result.failure().starts_with(
            fmt::format("emitter 1 of 1 threw: connecting to {}: {}", where,
                        make_error_code(redis::error::authentication_failed).message())));
        CHECK(result.failure().find("Zq9-not-it") == std::string::npos);
    }
    {
        const auto [result, stats] =
            redis_test::run_drained_worker(server.address({}, std::string()), "jobs");
        CHECK(result.status() == sa::task_status::failed);
        CHECK(result.failure().starts_with("emitter 1 of 1 threw: XGROUP: the server requires a "
                                           "password (NOAUTH) and none was given"));
    }
    {
        const auto [result, stats] = redis_test::run_drained_worker(
            server.address("reader", std::string(worker_password)), "jobs");
        CHECK(result.status() == sa::task_status::failed);
        CHECK(result.failure().starts_with("emitter 1 of 1 threw: XREADGROUP: NOPERM"));
        CHECK_THAT(result.failure(),
                   Catch::Contains(": the user lacks a permission the work needs (NOPERM)"));
        CHECK(result.stats().processed == 0);
    }
    CHECK(redis_cli.pending("jobs", "g") == 0);
}
