// sweet_async/redis/server.hpp: where a Redis server is and who we are to it.
#ifndef SWEET_ASYNC_REDIS_SERVER_HPP
#define SWEET_ASYNC_REDIS_SERVER_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)
#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/redis/tls_options.hpp>

namespace sweet_async::redis {

/// A Redis server and the credentials a connection presents to it: sent on every connection and
/// every reconnection before any other command (`AUTH`, then `SELECT` for a database other than
/// 0), over TLS when `tls` is set. The password is never printed: the formatter shows `***` in
/// its place.
///
/// ```cpp
/// // rediss://worker:pw@db.internal:6380/0
/// auto where = sa::redis::server::from_url(std::getenv("REDIS_URL"));
/// where.tls->ca_file = "/etc/redis/ca.crt";
/// ```
struct server {
    /// The host name or address; resolved on every connection (so a restarted server on a new
    /// address is found again).
    std::string host = "127.0.0.1";
    /// The TCP port.
    std::uint16_t port = 6379;
    /// The ACL user; empty: the `default` user (`requirepass`), or no authentication at all
    /// when `password` is empty too.
    std::string username{};
    /// The password; empty: no `AUTH` (unless `username` is set).
    std::string password{};
    /// The logical database (`SELECT`); 0 needs no command.
    unsigned database = 0;
    /// Set: the connection speaks TLS with these settings (`<sweet_async/redis/tls.hpp>` and
    /// `sweet_async::redis_tls` provide it; without them connecting fails with
    /// `error::tls_unavailable`). A `rediss://` URL sets it.
    std::optional<tls_options> tls{};
    /// How long connecting may take, from resolving the host to the last handshake reply; then
    /// it fails with `error::connect_timeout` (a server that accepts and never answers, a TLS
    /// client at a plain port).
    std::chrono::milliseconds connect_timeout{10'000};

    /// The server at `endpoint`, without credentials.
    static server at(const asio::ip::tcp::endpoint& endpoint) {
        return {.host = endpoint.address().to_string(), .port = endpoint.port()};
    }

    /// Reads `redis://[[username][:password]@]host[:port][/database]`, as other clients write
    /// it (user and password percent-decoded; an IPv6 address in brackets), or `rediss://...`
    /// for TLS with the default `tls_options` (the system's authorities). Throws
    /// `std::invalid_argument` naming what is wrong, without the password.
    static server from_url(std::string_view url);

    /// True when a connection authenticates (`AUTH`).
    bool authenticates() const noexcept { return !username.empty() || !password.empty(); }

    /// `redis://user:***@host:port/db` (`rediss://` with TLS): the URL without the password.
    std::string to_url() const;
};

}  // namespace sweet_async::redis

/// `redis://user:***@host:port/db`: the server as a URL, the password masked (the TLS options
/// are `tls_options`' formatter's to print).
template <>
struct fmt::formatter<sweet_async::redis::server> : sweet_async::detail::plain_formatter {
    /// Writes `to_url()`, never the password.
    auto format(const sweet_async::redis::server& server, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(ctx, server.to_url());
    }
};

#include <sweet_async/redis/impl/server.hpp>

#endif  // SWEET_ASYNC_REDIS_SERVER_HPP
