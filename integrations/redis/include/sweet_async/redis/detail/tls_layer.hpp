// sweet_async/redis/detail/tls_layer.hpp: what a connection needs of TLS, without OpenSSL.
#ifndef SWEET_ASYNC_REDIS_DETAIL_TLS_LAYER_HPP
#define SWEET_ASYNC_REDIS_DETAIL_TLS_LAYER_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <system_error>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(buffer)
#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)

#include <sweet_async/redis/server.hpp>

namespace sweet_async::redis::detail {

class connection_state;

/// Where a read or a write of the connection continues: a step of its state, which it keeps
/// alive. A concrete type, so that a TLS layer's operations need no type erasure per I/O.
struct io_continuation {
    std::shared_ptr<connection_state> state;
    void (*step)(connection_state&, error_code, std::size_t);

    void operator()(error_code ec, std::size_t transferred) const { step(*state, ec, transferred); }
};

/// TLS over a connection's socket, seen through what the connection does with it: one handshake,
/// then one read and one write at a time (on the connection's strand). Implemented in
/// `<sweet_async/redis/tls.hpp>`, over `asio::ssl`; the connection itself never names OpenSSL,
/// so a program without TLS does not link it.
class tls_layer {
public:
    virtual ~tls_layer() = default;
    /// The client handshake: verifies the server's certificate as the options say. Completes
    /// with `error::certificate_untrusted`, `certificate_host_mismatch` or `tls_handshake_failed`
    /// when it fails.
    virtual asio::awaitable<error_code> handshake() = 0;
    /// Reads some decrypted bytes into `into`; a server that closes without TLS's close_notify
    /// reads as `asio::error::eof`, and a failure before the first byte (a refused client
    /// certificate, which TLS 1.3 reports after the handshake) as `tls_handshake_failed`.
    virtual void async_read_some(asio::mutable_buffer into, io_continuation then) = 0;
    /// Writes all of `bytes`, encrypted.
    virtual void async_write(asio::const_buffer bytes, io_continuation then) = 0;
};

/// Makes the TLS layer of a connection to `where` over `socket` (connected); a setting that
/// cannot be used sets `ec` to the error that names it (`error::tls_authority_unusable`,
/// `tls_certificate_unusable`, `tls_server_name_invalid`).
using tls_layer_factory = std::shared_ptr<tls_layer> (*)(asio::ip::tcp::socket& socket,
                                                         const server& where, error_code& ec);

/// The factory `<sweet_async/redis/tls.hpp>` installs when a program includes it; null: the
/// program has no TLS, and connecting with `server::tls` fails with `error::tls_unavailable`.
/// Release/acquire: a connection that sees the pointer sees the factory's code initialised.
inline std::atomic<tls_layer_factory> installed_tls_layer_factory{nullptr};

}  // namespace sweet_async::redis::detail

#endif  // SWEET_ASYNC_REDIS_DETAIL_TLS_LAYER_HPP
