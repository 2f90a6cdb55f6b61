// sweet_async/redis/impl/server.hpp: reading and writing `redis::server` as a URL.
#ifndef SWEET_ASYNC_REDIS_IMPL_SERVER_HPP
#define SWEET_ASYNC_REDIS_IMPL_SERVER_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include <sweet_async/redis/server.hpp>

namespace sweet_async::redis {

namespace detail {

/// `text` with its `%XX` escapes decoded; `what` names the part in an error (never its text,
/// which may be a password).
inline std::string percent_decoded(std::string_view text, std::string_view what) {
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            decoded += text[i];
            continue;
        }
        unsigned value = 0;
        const char* first = text.data() + i + 1;
        const char* last = first + std::min<std::size_t>(2, text.size() - i - 1);
        const auto [end, ec] = std::from_chars(first, last, value, 16);
        if (ec != std::errc{} || end != first + 2) {
            throw std::invalid_argument(fmt::format(
                "redis::server::from_url: the {} has a '%' not followed by two hex digits", what));
        }
        decoded += static_cast<char>(value);
        i += 2;
    }
    return decoded;
}

/// `text` with what a URL's user part cannot hold percent-encoded.
inline std::string percent_encoded(std::string_view text) {
    std::string encoded;
    for (const char c : text) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (plain)
            encoded += c;
        else
            encoded += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
    return encoded;
}

/// `text` as a number in [0, most]; `what` names it in an error.
inline unsigned url_number(std::string_view text, unsigned most, std::string_view what) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > most) {
        throw std::invalid_argument(
            fmt::format("redis::server::from_url: the {} must be a number from 0 to {}, got '{}'",
                        what, most, text));
    }
    return value;
}

}  // namespace detail

inline server server::from_url(std::string_view url) {
    auto refuse = [](const std::string& why) {
        throw std::invalid_argument("redis::server::from_url: " + why);
    };
    server result;
    if (url.starts_with("rediss://")) {
        result.tls.emplace();
        url.remove_prefix(9);
    } else if (url.starts_with("redis://")) {
        url.remove_prefix(8);
    } else {
        const auto colon = url.find("://");
        refuse(colon == std::string_view::npos
                   ? std::string("expected a URL starting with redis:// or rediss://")
                   : fmt::format("expected the scheme redis:// or rediss://, got '{}://'",
                                 url.substr(0, colon)));
    }
    // The user part ends at the last '@' before the path: a password may hold '@' unescaped.
    const std::string_view authority = url.substr(0, url.find('/'));
    std::string_view rest = url;
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view user = authority.substr(0, at);
        const auto colon = user.find(':');
        result.username = detail::percent_decoded(user.substr(0, colon), "user name");
        if (colon != std::string_view::npos)
            result.password = detail::percent_decoded(user.substr(colon + 1), "password");
        rest.remove_prefix(at + 1);
    }
    const auto slash = rest.find('/');
    std::string_view host_port = rest.substr(0, slash);
    if (host_port.starts_with('[')) {  // [IPv6]:port
        const auto close = host_port.find(']');
        if (close == std::string_view::npos) refuse("an IPv6 address in '[' lacks its ']'");
        result.host = std::string(host_port.substr(1, close - 1));
        host_port.remove_prefix(close + 1);
        if (!host_port.empty() && !host_port.starts_with(':'))
            refuse(fmt::format("expected ':port' after the IPv6 address, got '{}'", host_port));
    } else {
        result.host = std::string(host_port.substr(0, host_port.find(':')));
        host_port.remove_prefix(std::min(host_port.size(), host_port.find(':')));
    }
    if (result.host.empty()) refuse("the URL names no host");
    if (host_port.starts_with(':'))
        result.port =
            static_cast<std::uint16_t>(detail::url_number(host_port.substr(1), 65535, "port"));
    if (slash != std::string_view::npos) {
        const std::string_view path = rest.substr(slash + 1);
        if (!path.empty()) result.database = detail::url_number(path, 1u << 30, "database");
    }
    return result;
}

inline std::string server::to_url() const {
    std::string user;
    if (!username.empty()) user = detail::percent_encoded(username);
    if (!password.empty()) user += ":***";
    if (!user.empty()) user += '@';
    const bool ipv6 = host.find(':') != std::string::npos;
    return fmt::format("{}://{}{}{}{}:{}/{}", tls ? "rediss" : "redis", user, ipv6 ? "[" : "", host,
                       ipv6 ? "]" : "", port, database);
}

}  // namespace sweet_async::redis

#endif  // SWEET_ASYNC_REDIS_IMPL_SERVER_HPP
