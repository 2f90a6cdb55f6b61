// sweet_async/redis/error.hpp: why a Redis operation did not succeed.
#ifndef SWEET_ASYNC_REDIS_ERROR_HPP
#define SWEET_ASYNC_REDIS_ERROR_HPP

#include <sweet_async/config.hpp>

#include <string>
#include <type_traits>

namespace sweet_async::redis {

/// Failures of the connection itself; a command the server refuses is not
/// one of them (its reply is an error reply). Usable as an `error_code`
/// (category "sweet_async.redis").
enum class error {
    not_connected = 1,  ///< A command before `async_connect` succeeded, or after `close`.
    closed_by_server,   ///< The server closed the connection with replies outstanding.
    protocol,           ///< The server's bytes are not RESP: the connection is closed.
    unexpected_reply,   ///< A reply came when no command was waiting for one.
    not_ready,  ///< The server answered LOADING, BUSY or TRYAGAIN: it may take the command later.
    /// `AUTH` was refused: a wrong password, an unknown or disabled user, or a password given to
    /// a server that has none. Retrying cannot help.
    authentication_failed,
    /// The server wants a password (`NOAUTH`) and the connection gave none.
    authentication_required,
    /// The user may not run a command, or touch a key, that the work needs (`NOPERM`).
    no_permission,
    /// The server's TLS certificate does not lead to a trusted authority (self-signed, signed by
    /// a CA not given, expired or not yet valid). Never downgraded to plain TCP.
    certificate_untrusted,
    /// The server's TLS certificate is valid but names another host than the one connected to.
    certificate_host_mismatch,
    /// The TLS handshake failed for another reason: the server does not speak TLS on that port,
    /// no protocol version or cipher in common, or it refused our client certificate.
    tls_handshake_failed,
    /// The authorities to trust cannot be loaded: `tls_options::ca_file` or `ca_directory`
    /// missing, unreadable or not PEM (or, with neither, the system's store).
    tls_authority_unusable,
    /// Our certificate or its key cannot be used: `tls_options::certificate_file` or
    /// `private_key_file` missing, unreadable or not PEM, a wrong `private_key_password`, or a
    /// key that is not the certificate's.
    tls_certificate_unusable,
    /// `tls_options::server_name` (or the host, when it is empty) is not a valid host name or
    /// address to check the certificate against.
    tls_server_name_invalid,
    /// TLS was asked for (`rediss://`, `server::tls`) in a program built without it: include
    /// `<sweet_async/redis/tls.hpp>` and link `sweet_async::redis_tls` (OpenSSL).
    tls_unavailable,
    /// Connecting (resolving, TCP, the TLS handshake, `AUTH`, `SELECT`) took longer than
    /// `server::connect_timeout`.
    connect_timeout,
};

/// The category of `redis::error`.
inline const sweet_async::error_category& error_category() noexcept {
    struct category final : sweet_async::error_category {
        const char* name() const noexcept override { return "sweet_async.redis"; }
        std::string message(int value) const override {
            switch (static_cast<error>(value)) {
            case error::not_connected: return "the connection is not open";
            case error::closed_by_server: return "the server closed the connection";
            case error::protocol: return "the server's reply is not valid RESP";
            case error::unexpected_reply: return "a reply came that no command was waiting for";
            case error::not_ready:
                return "the server is not ready (loading its data, or busy): try again later";
            case error::authentication_failed:
                return "the server refused the credentials (AUTH): wrong password, or unknown "
                       "or disabled user";
            case error::authentication_required:
                return "the server requires a password (NOAUTH) and none was given";
            case error::no_permission: return "the user lacks a permission the work needs (NOPERM)";
            case error::certificate_untrusted:
                return "the server's TLS certificate is not trusted (unknown or self-signed "
                       "authority, expired, or not yet valid)";
            case error::certificate_host_mismatch:
                return "the server's TLS certificate is for another host name";
            case error::tls_handshake_failed:
                return "the TLS handshake failed (no TLS on that port, nothing in common, or our "
                       "client certificate refused)";
            case error::tls_authority_unusable:
                return "the TLS authorities cannot be loaded (ca_file or ca_directory: missing, "
                       "unreadable, or not PEM)";
            case error::tls_certificate_unusable:
                return "our TLS certificate or key cannot be used (certificate_file or "
                       "private_key_file: missing, unreadable, not PEM, a wrong "
                       "private_key_password, or a key that is not the certificate's)";
            case error::tls_server_name_invalid:
                return "the TLS server name is not a valid host name or address";
            case error::tls_unavailable:
                return "TLS was asked for, but the program was built without it (include "
                       "<sweet_async/redis/tls.hpp>, link sweet_async::redis_tls)";
            case error::connect_timeout:
                return "connecting took longer than the server's connect_timeout";
            }
            return "unknown sweet_async.redis error";
        }
    };
    static const category instance;
    return instance;
}

/// Makes `error_code`s from `redis::error` (found by argument-dependent lookup).
inline error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

namespace detail {

/// True for the connection failures no reconnection can mend: refused credentials or
/// permissions, a certificate that does not verify, TLS settings that cannot work.
inline bool reconnecting_cannot_help(const error_code& ec) noexcept {
    if (ec.category() != error_category()) return false;
    switch (static_cast<error>(ec.value())) {
    case error::authentication_failed:
    case error::no_permission:
    case error::certificate_untrusted:
    case error::certificate_host_mismatch:
    case error::tls_handshake_failed:
    case error::tls_authority_unusable:
    case error::tls_certificate_unusable:
    case error::tls_server_name_invalid:
    case error::tls_unavailable: return true;
    default: return false;
    }
}

}  // namespace detail

}  // namespace sweet_async::redis

/// Lets `error_code ec = redis::error::...` and comparisons work.
SWEET_ASYNC_DETAIL_ERROR_CODE_ENUM(sweet_async::redis::error);

#endif  // SWEET_ASYNC_REDIS_ERROR_HPP
