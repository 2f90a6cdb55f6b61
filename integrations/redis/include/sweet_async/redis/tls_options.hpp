// sweet_async/redis/tls_options.hpp: how a connection speaks TLS to a Redis server.
#ifndef SWEET_ASYNC_REDIS_TLS_OPTIONS_HPP
#define SWEET_ASYNC_REDIS_TLS_OPTIONS_HPP

#include <string>
#include <string_view>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async::redis {

/// TLS settings of a `redis::server` (plain data: OpenSSL comes in only with
/// `<sweet_async/redis/tls.hpp>`, which connects with them). By default the server's certificate
/// is verified against the system's trusted authorities and must name the host connected to,
/// which is also sent as SNI; a certificate that does not verify fails the connection
/// (`error::certificate_untrusted`, `error::certificate_host_mismatch`), never falling back to
/// plain TCP. The key's password is never printed.
struct tls_options {
    /// A PEM file of the authorities to trust; with `ca_directory`, both; neither: the system's.
    std::string ca_file{};
    /// A directory of PEM authorities named by their hash (`openssl rehash`).
    std::string ca_directory{};
    /// The name the certificate must carry, and the SNI sent; empty: the server's `host`.
    std::string server_name{};
    /// For mutual TLS: our certificate chain (PEM); empty: no client certificate.
    std::string certificate_file{};
    /// The private key of `certificate_file` (PEM).
    std::string private_key_file{};
    /// The password of an encrypted `private_key_file`; never printed.
    std::string private_key_password{};
    /// False turns verification off: encrypted, but to a server nobody vouched for. For tests
    /// against a throwaway server only.
    bool verify_peer = true;
};

}  // namespace sweet_async::redis

namespace sweet_async::redis::detail {

/// The options that are set, as `formatter<tls_options>` writes them.
inline std::string describe(const tls_options& tls) {
    std::string text = "tls(";
    auto add = [&text](std::string_view name, const std::string& value) {
        if (value.empty()) return;
        if (text.back() != '(') text += ", ";
        text += fmt::format("{}={}", name, value);
    };
    add("ca_file", tls.ca_file);
    add("ca_directory", tls.ca_directory);
    add("server_name", tls.server_name);
    add("certificate_file", tls.certificate_file);
    add("private_key_file", tls.private_key_file);
    if (!tls.private_key_password.empty()) add("private_key_password", "***");
    if (!tls.verify_peer) add("verify_peer", "false");
    return text + ")";
}

}  // namespace sweet_async::redis::detail

/// `tls(ca_file=..., certificate_file=..., private_key_password=***)`: the options that are set,
/// the key's password masked.
template <>
struct fmt::formatter<sweet_async::redis::tls_options> : sweet_async::detail::plain_formatter {
    /// Writes the options that are set, `***` for the key's password.
    auto format(const sweet_async::redis::tls_options& tls, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(ctx, sweet_async::redis::detail::describe(tls));
    }
};

#endif  // SWEET_ASYNC_REDIS_TLS_OPTIONS_HPP
