// sweet_async/redis/server.hpp: where a Redis server is and who we are to it.
#ifndef SWEET_ASYNC_REDIS_SERVER_HPP
#define SWEET_ASYNC_REDIS_SERVER_HPP

#include <sweet_async/config.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)
#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async::redis {

/// A Redis server and the credentials a connection presents to it: sent on every connection and
/// every reconnection before any other command (`AUTH`, then `SELECT` for a database other than
/// 0). The password is never printed: the formatter shows `***` in its place.
///
/// ```cpp
/// auto where = sa::redis::server::from_url(std::getenv("REDIS_URL"));  //
/// redis://worker:pw@db:6379/0
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

    /// The server at `endpoint`, without credentials.
    static server at(const asio::ip::tcp::endpoint& endpoint) {
        return {.host = endpoint.address().to_string(), .port = endpoint.port()};
    }

    /// Reads `redis://[[username][:password]@]host[:port][/database]`, as other clients write
    /// it (user and password percent-decoded; an IPv6 address in brackets). Throws
    /// `std::invalid_argument` naming what is wrong, without the password; `rediss://` (TLS) is
    /// refused as not supported yet.
    static server from_url(std::string_view url);

    /// True when a connection authenticates (`AUTH`).
    bool authenticates() const noexcept { return !username.empty() || !password.empty(); }

    /// `redis://user:***@host:port/db`: the URL without the password.
    std::string to_url() const;
};

}  // namespace sweet_async::redis

/// `redis://user:***@host:port/db`: the server as a URL, the password masked.
template <>
struct fmt::formatter<sweet_async::redis::server> : sweet_async::detail::plain_formatter {
    /// Writes `to_url()`, never the password.
    auto format(const sweet_async::redis::server& server, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(ctx, server.to_url());
    }
};

#include <sweet_async/redis/impl/server.hpp>

#endif  // SWEET_ASYNC_REDIS_SERVER_HPP
