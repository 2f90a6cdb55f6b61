// TLS against a real redis-server listening with certificates the test process made
// (redis_server.hpp): the server verified by default, by its authority and its name; client
// certificates; ACL users over TLS; failures named at once, never a plain connection instead;
// no password or key password in anything printed.
#include <sweet_async/sweet_async.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include <sweet_async/redis.hpp>
#include <sweet_async/redis/tls.hpp>

#include "redis_server.hpp"
#include "sweet_async_catch.hpp"

namespace sa = sweet_async;
namespace redis = sweet_async::redis;
using redis_test::redis_server;
using redis_test::scene;
using redis_test::tls_certificates;
using redis_test::tls_listener;

namespace {

constexpr const char* tls_admin_password = "adm1n-over-tls";
constexpr const char* tls_worker_password = "w0rker-over-tls";

/// A server with a TLS port whose default user needs `tls_admin_password` and whose ACL user
/// `worker` may run what a stream worker needs on keys jobs*.
redis_server tls_server(bool client_certificates_required = false) {
    std::vector<std::string> arguments{"--requirepass",
                                       tls_admin_password,
                                       "--user",
                                       "worker",
                                       "on",
                                       std::string(">") + tls_worker_password,
                                       "~jobs*",
                                       "+ping",
                                       "+select",
                                       "+xgroup",
                                       "+xautoclaim",
                                       "+xack",
                                       "+xadd",
                                       "+xpending",
                                       "+xreadgroup"};
    return redis_server(false, std::move(arguments), tls_admin_password,
                        tls_listener{.client_certificates_required = client_certificates_required});
}

/// What connecting with `where` completes with, and the reply to a PING after it when it
/// succeeded ("" otherwise).
std::pair<sa::error_code, std::string> connect_and_ping(const redis::server& where) {
    asio::io_context io;
    redis::connection c(io.get_executor());
    auto connected = c.async_connect(where, asio::use_future);
    io.run();
    try {
        connected.get();
    } catch (const sa::system_error& e) {
        return {e.code(), ""};
    }
    io.restart();
    auto pong = c.async_execute({"PING"}, asio::use_future);
    io.run();
    return {sa::error_code{}, pong.get().text};
}

}  // namespace

TEST_CASE("redis over TLS: a server whose certificate the given CA signed, for the address or "
          "the name connected to, serves commands, and a rediss:// URL says TLS",
          "[redis][tls]") {
    auto server = tls_server();
    CHECK(connect_and_ping(server.tls_address()) ==
          std::pair(sa::error_code{}, std::string("PONG")));

    // By name: the certificate's DNS entry is checked, and the name is sent as SNI.
    auto by_name = server.tls_address();
    by_name.host = "localhost";
    CHECK(connect_and_ping(by_name).first == sa::error_code{});

    // From a URL, as a user's configuration would give it.
    auto from_url = redis::server::from_url(fmt::format(
        "rediss://worker:{}@127.0.0.1:{}/0", tls_worker_password, server.tls_address().port));
    from_url.tls->ca_file = tls_certificates::shared().ca();
    CHECK(connect_and_ping(from_url) == std::pair(sa::error_code{}, std::string("PONG")));

    // The plain port still speaks plain TCP: TLS was not a property of the connection's luck.
    CHECK(connect_and_ping(server.address()).first == sa::error_code{});
}

TEST_CASE("redis over TLS: a certificate that does not verify is a named error at once, never "
          "a plain connection",
          "[redis][tls]") {
    auto server = tls_server();

    // No CA given: the system's authorities do not know the test CA.
    auto system_store = server.tls_address();
    system_store.tls->ca_file.clear();
    CHECK(connect_and_ping(system_store).first == redis::error::certificate_untrusted);

    // The right CA, the wrong name.
    auto other_name = server.tls_address();
    other_name.tls->server_name = "cache.example.com";
    CHECK(connect_and_ping(other_name).first == redis::error::certificate_host_mismatch);

    // Verification off is the user's explicit choice: encrypted, nobody vouched.
    auto unverified = system_store;
    unverified.tls->verify_peer = false;
    CHECK(connect_and_ping(unverified).first == sa::error_code{});

    // A stream source ends at once with the error (no reconnection loop), naming the server
    // without its password.
    const auto [result, stats] = redis_test::run_drained_worker(system_store, "jobs");
    CHECK(result.status() == sa::task_status::failed);
    CHECK(stats.reconnects == 0);
    CHECK(result.failure().starts_with(fmt::format(
        "emitter 1 of 1 threw: connecting to rediss://:***@127.0.0.1:{}/0: {}", system_store.port,
        make_error_code(redis::error::certificate_untrusted).message())));
    CHECK(result.failure().find(tls_admin_password) == std::string::npos);
}

TEST_CASE("redis over TLS: a server that does not speak TLS fails the handshake, one that never "
          "answers fails at the connect timeout",
          "[redis][tls]") {
    // A plain server that speaks first, as a non-TLS service does, and one that stays silent.
    // (redis-server's plain port reads a ClientHello as an inline command and answers only if
    // its random bytes hold a newline: either case, by chance.)
    for (const bool speaks : {true, false}) {
        INFO((speaks ? "a server that speaks plain text" : "a silent server"));
        asio::io_context io;
        asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
        asio::ip::tcp::socket accepted(io);
        acceptor.async_accept(accepted, [&](sa::error_code ec) {
            if (!ec && speaks) asio::write(accepted, asio::buffer(std::string("-ERR hello\r\n")));
        });
        std::thread serving([&io] { io.run(); });
        auto where = redis::server::at(acceptor.local_endpoint());
        where.tls = redis::tls_options{.ca_file = tls_certificates::shared().ca()};
        where.connect_timeout = std::chrono::milliseconds(300);
        const auto outcome = connect_and_ping(where).first;
        serving.join();
        CHECK(outcome ==
              (speaks ? redis::error::tls_handshake_failed : redis::error::connect_timeout));
    }
}

TEST_CASE("redis over TLS: mutual TLS presents our certificate, an encrypted key opens with its "
          "password, and files that do not load are named errors",
          "[redis][tls]") {
    const auto& certificates = tls_certificates::shared();
    auto server = tls_server(/*client_certificates_required=*/true);

    auto anonymous = server.tls_address();
    CHECK(connect_and_ping(anonymous).first == redis::error::tls_handshake_failed);

    auto with_certificate = server.tls_address();
    with_certificate.tls->certificate_file = certificates.client_certificate();
    with_certificate.tls->private_key_file = certificates.client_key();
    CHECK(connect_and_ping(with_certificate) == std::pair(sa::error_code{}, std::string("PONG")));

    auto encrypted_key = with_certificate;
    encrypted_key.tls->private_key_file = certificates.client_key_encrypted();
    encrypted_key.tls->private_key_password = tls_certificates::key_password;
    CHECK(connect_and_ping(encrypted_key).first == sa::error_code{});

    auto wrong_key_password = encrypted_key;
    wrong_key_password.tls->private_key_password = "not-the-key-password";
    CHECK(connect_and_ping(wrong_key_password).first == redis::error::tls_certificate_unusable);

    auto key_without_certificate = with_certificate;
    key_without_certificate.tls->private_key_file = certificates.file("ca.key");  // the CA's
    CHECK(connect_and_ping(key_without_certificate).first ==
          redis::error::tls_certificate_unusable);

    auto missing_ca = with_certificate;
    missing_ca.tls->ca_file = certificates.file("no-such-ca.crt");
    CHECK(connect_and_ping(missing_ca).first == redis::error::tls_authority_unusable);

    auto bad_name = with_certificate;
    bad_name.tls->server_name = std::string("bad\0name", 8);
    CHECK(connect_and_ping(bad_name).first == redis::error::tls_server_name_invalid);

    // What the options print: the files, never the key's password.
    const std::string printed = fmt::format("{} {}", encrypted_key, *encrypted_key.tls);
    CHECK(printed.find(tls_certificates::key_password) == std::string::npos);
    CHECK(printed.find(tls_admin_password) == std::string::npos);
    CHECK(fmt::format("{}", *encrypted_key.tls) ==
          fmt::format("tls(ca_file={}, certificate_file={}, private_key_file={}, "
                      "private_key_password=***)",
                      certificates.ca(), certificates.client_certificate(),
                      certificates.client_key_encrypted()));
}

TEST_CASE("redis over TLS: an ACL user works a stream, a wrong password fails at once, and a "
          "program without TLS says so instead of connecting in clear",
          "[redis][tls][auth]") {
    auto server = tls_server();
    scene redis_cli(server);
    redis_cli.add("jobs", 0, 50);
    redis_cli({"XGROUP", "CREATE", "jobs", "g", "0"});

    const auto [result, stats] =
        redis_test::run_drained_worker(server.tls_address("worker", tls_worker_password), "jobs");
    CHECK(result.stats().processed == 50);
    CHECK(stats.acknowledged == 50);
    CHECK(redis_cli.pending("jobs", "g") == 0);

    CHECK(connect_and_ping(server.tls_address("worker", "wrong")).first ==
          redis::error::authentication_failed);

    // As if <sweet_async/redis/tls.hpp> were not in the program.
    auto& factory = redis::detail::installed_tls_layer_factory;
    const auto installed = factory.exchange(nullptr);
    const auto without = connect_and_ping(server.tls_address()).first;
    factory.store(installed);
    CHECK(without == redis::error::tls_unavailable);
}
