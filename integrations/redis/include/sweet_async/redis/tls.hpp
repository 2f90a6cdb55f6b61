// sweet_async/redis/tls.hpp: TLS for Redis connections, over asio::ssl (OpenSSL).
//
// Include it in one file of the program, or more, and link `sweet_async::redis_tls` (which
// brings OpenSSL): every `redis::server` with `tls` set (a `rediss://` URL) then connects over
// TLS. Without it such a connection fails with `error::tls_unavailable`; a program that never
// asks for TLS needs neither this header nor OpenSSL.
#ifndef SWEET_ASYNC_REDIS_TLS_HPP
#define SWEET_ASYNC_REDIS_TLS_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include SWEET_ASYNC_ASIO_HEADER(write)
#include SWEET_ASYNC_ASIO_HEADER_IN(ip, address)
#include SWEET_ASYNC_ASIO_HEADER_IN(ssl, context)
#include SWEET_ASYNC_ASIO_HEADER_IN(ssl, error)
#include SWEET_ASYNC_ASIO_HEADER_IN(ssl, stream)

#include <sweet_async/redis/detail/tls_layer.hpp>
#include <sweet_async/redis/error.hpp>
#include <sweet_async/redis/server.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace sweet_async::redis::detail {

/// TLS over a connection's socket with `asio::ssl`: the socket stays the connection's (closing
/// it ends the TLS session too); the layer owns the OpenSSL context and session.
class openssl_layer final : public tls_layer, public std::enable_shared_from_this<openssl_layer> {
public:
    openssl_layer(asio::ip::tcp::socket& socket, asio::ssl::context context)
        : context_(std::move(context)),
          stream_(socket, context_) {
        // Called when the server asks for a certificate we do not have (none was configured).
        // The context is this layer's own; its slot of ours leads back here (asio::ssl keeps its
        // callbacks in the app data).
        SSL_CTX_set_ex_data(context_.native_handle(), layer_slot(), this);
        SSL_CTX_set_client_cert_cb(context_.native_handle(), [](SSL* ssl, X509**, EVP_PKEY**) {
            void* layer = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), layer_slot());
            static_cast<openssl_layer*>(layer)->certificate_requested_ = true;
            return 0;  // go on without one
        });
    }

    /// Names the server to check the certificate against, and to send as SNI (a host name
    /// only: SNI carries no addresses); false when OpenSSL refuses the name.
    bool expect(const std::string& name) {
        SSL* ssl = stream_.native_handle();
        X509_VERIFY_PARAM* checks = SSL_get0_param(ssl);
        error_code not_an_address;
        asio::ip::make_address(name, not_an_address);
        if (!not_an_address) return X509_VERIFY_PARAM_set1_ip_asc(checks, name.c_str()) == 1;
        X509_VERIFY_PARAM_set_hostflags(checks, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        return X509_VERIFY_PARAM_set1_host(checks, name.c_str(), name.size()) == 1 &&
               SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
    }

    asio::awaitable<error_code> handshake() override {
        error_code ec;
        co_await stream_.async_handshake(asio::ssl::stream_base::client,
                                         asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) co_return ec;
        // What the certificate check found says more than the handshake's alert does.
        switch (SSL_get_verify_result(stream_.native_handle())) {
        case X509_V_OK: break;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            co_return make_error_code(error::certificate_host_mismatch);
        default: co_return make_error_code(error::certificate_untrusted);
        }
        if (is_tls_failure(ec)) co_return make_error_code(error::tls_handshake_failed);
        co_return ec;  // the network's own (reset, refused): a reconnection may do better
    }

    void async_read_some(asio::mutable_buffer into, io_continuation then) override {
        stream_.async_read_some(into, [self = shared_from_this(),
                                       then = std::move(then)](error_code ec, std::size_t n) {
            ec = self->after_handshake(ec);
            self->received_ = self->received_ || !ec;
            then(ec, n);
        });
    }

    void async_write(asio::const_buffer bytes, io_continuation then) override {
        asio::async_write(
            stream_, bytes,
            [self = shared_from_this(), then = std::move(then)](error_code ec, std::size_t n) {
                then(self->after_handshake(ec), n);
            });
    }

private:
    /// The index of an OpenSSL context's slot that holds its layer.
    static int layer_slot() {
        static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return slot;
    }

    static bool is_tls_failure(const error_code& ec) {
        return ec.category() == asio::error::get_ssl_category() ||
               ec == asio::ssl::error::stream_truncated;
    }

    /// What an I/O failure means. Before the first byte came back, TLS 1.3 may still be
    /// refusing us: a TLS alert then, or, when the server asked for a certificate we do not
    /// have, its closing the connection (the alert can be lost to the reset that a write racing
    /// the close provokes), is the handshake's failure, which no reconnection mends.
    error_code after_handshake(error_code ec) const {
        if (ec == asio::ssl::error::stream_truncated) {
            ec = asio::error::eof;  // closed without close_notify: as a plain close
        }
        if (!ec || received_) return ec;
        const bool dropped = ec == asio::error::eof || ec == asio::error::connection_reset ||
                             ec == asio::error::broken_pipe;
        if (is_tls_failure(ec) || (certificate_requested_ && dropped))
            return make_error_code(error::tls_handshake_failed);
        return ec;
    }

    asio::ssl::context context_;  // before stream_, which uses it
    asio::ssl::stream<asio::ip::tcp::socket&> stream_;
    bool received_ = false;               // a byte came back: the handshake is behind us
    bool certificate_requested_ = false;  // the server asked for a certificate we lack
};

/// The OpenSSL context `options` describe: TLS 1.2 or later, the authorities to trust, our
/// certificate and key; `ec` set to `error::tls_authority_unusable` or
/// `tls_certificate_unusable` when what they name does not load.
inline asio::ssl::context make_tls_context(const tls_options& options, error_code& ec) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    if (options.verify_peer) {
        context.set_verify_mode(asio::ssl::verify_peer, ec);
        if (!ec && !options.ca_file.empty()) context.load_verify_file(options.ca_file, ec);
        if (!ec && !options.ca_directory.empty()) context.add_verify_path(options.ca_directory, ec);
        if (!ec && options.ca_file.empty() && options.ca_directory.empty())
            context.set_default_verify_paths(ec);
    } else {
        context.set_verify_mode(asio::ssl::verify_none, ec);
    }
    if (ec) {
        ec = make_error_code(error::tls_authority_unusable);
        return context;
    }
    if (!options.certificate_file.empty()) {
        if (!options.private_key_password.empty()) {
            context.set_password_callback(
                [password = options.private_key_password](
                    std::size_t, asio::ssl::context::password_purpose) { return password; },
                ec);
        }
        if (!ec) context.use_certificate_chain_file(options.certificate_file, ec);
        if (!ec) {
            context.use_private_key_file(options.private_key_file, asio::ssl::context::pem, ec);
        }
        if (ec || SSL_CTX_check_private_key(context.native_handle()) != 1)
            ec = make_error_code(error::tls_certificate_unusable);
    }
    return context;
}

/// The factory this header installs (`installed_tls_layer_factory`).
inline std::shared_ptr<tls_layer> make_openssl_layer(asio::ip::tcp::socket& socket,
                                                     const server& where, error_code& ec) {
    const tls_options& options = *where.tls;
    asio::ssl::context context = make_tls_context(options, ec);
    if (ec) return nullptr;
    auto layer = std::make_shared<openssl_layer>(socket, std::move(context));
    if (!layer->expect(options.server_name.empty() ? where.host : options.server_name)) {
        ec = make_error_code(error::tls_server_name_invalid);
        return nullptr;
    }
    return layer;
}

/// Installs `make_openssl_layer` when the program starts (any file that includes this header
/// does; once is enough). Release: a connection that acquires the pointer may call it.
inline const bool openssl_layer_installed = [] {
    installed_tls_layer_factory.store(&make_openssl_layer, std::memory_order_release);
    return true;
}();

}  // namespace sweet_async::redis::detail

#endif  // SWEET_ASYNC_REDIS_TLS_HPP
