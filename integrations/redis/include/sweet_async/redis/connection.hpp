// sweet_async/redis/connection.hpp: one pipelined connection to a Redis server.
#ifndef SWEET_ASYNC_REDIS_CONNECTION_HPP
#define SWEET_ASYNC_REDIS_CONNECTION_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER(connect)
#include SWEET_ASYNC_ASIO_HEADER(dispatch)
#include SWEET_ASYNC_ASIO_HEADER_IN(ip, tcp)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)

#include <sweet_async/channel/detail/waiter.hpp>
#include <sweet_async/redis/detail/connection_state.hpp>
#include <sweet_async/redis/detail/tls_layer.hpp>
#include <sweet_async/redis/error.hpp>
#include <sweet_async/redis/reply.hpp>
#include <sweet_async/redis/server.hpp>

namespace sweet_async::redis {

namespace detail {

/// Sends `command` on `state` and completes with its reply: `void(error_code, reply)`.
template <class CompletionToken>
auto async_execute(const std::shared_ptr<connection_state>& state, std::vector<std::string> command,
                   CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(error_code, reply)>(
        [state](auto handler, const std::vector<std::string>& command) {
            using handler_type = decltype(handler);
            std::unique_ptr<pending_reply> waiter =
                std::make_unique<handler_reply<handler_type, asio::any_io_executor>>(
                    std::move(handler), state->strand());
            asio::dispatch(state->strand(), [state, bytes = format_command(command),
                                             waiter = std::move(waiter)]() mutable {
                state->enqueue(std::move(bytes), std::move(waiter));
            });
        },
        token, std::move(command));
}

/// The error a refused `AUTH` or `SELECT` reply means.
inline error_code handshake_error(const reply& refused) {
    if (refused.text.starts_with("NOPERM")) return make_error_code(error::no_permission);
    return make_error_code(error::authentication_failed);
}

/// The TLS layer for a connection to `where` over `state`'s (connected) socket, handshake done;
/// null with `ec` set when TLS cannot be had or the handshake fails.
inline asio::awaitable<std::shared_ptr<tls_layer>> secure(std::shared_ptr<connection_state> state,
                                                          const server& where, error_code& ec) {
    // acquire: pairs with the release of the installation in <sweet_async/redis/tls.hpp>
    const tls_layer_factory factory = installed_tls_layer_factory.load(std::memory_order_acquire);
    if (factory == nullptr) {
        ec = make_error_code(error::tls_unavailable);
        co_return nullptr;
    }
    std::shared_ptr<tls_layer> tls = factory(state->socket(), where, ec);
    if (!ec) ec = co_await tls->handshake();
    co_return ec ? nullptr : tls;
}

/// Resolves `where`, connects, speaks TLS if it says so, then authenticates and selects the
/// database before anything else is written (on the connection's strand), unless `expired`
/// comes true. Completes with what failed, the connection closed; never throws.
inline asio::awaitable<error_code> open_unbounded(std::shared_ptr<connection_state> state,
                                                  server where,
                                                  std::shared_ptr<const bool> expired) {
    error_code ec;
    asio::ip::tcp::resolver resolver(state->strand());
    const auto endpoints = co_await resolver.async_resolve(
        where.host, std::to_string(where.port), asio::redirect_error(asio::use_awaitable, ec));
    // The steps after this one end when the deadline closes the socket; a resolution does not.
    if (*expired) co_return make_error_code(asio::error::operation_aborted);
    if (ec) co_return ec;
    state->socket().close(ec);
    co_await asio::async_connect(state->socket(), endpoints,
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
        asio::ip::tcp::no_delay on(true);
        state->socket().set_option(on, ec);
    }
    std::shared_ptr<tls_layer> tls;
    if (!ec && where.tls) tls = co_await secure(state, where, ec);
    if (ec) {
        error_code ignored;
        state->socket().close(ignored);
        co_return ec;
    }
    state->opened(std::move(tls));
    std::vector<std::vector<std::string>> handshake;
    if (where.authenticates()) {
        handshake.push_back(where.username.empty()
                                ? std::vector<std::string>{"AUTH", where.password}
                                : std::vector<std::string>{"AUTH", where.username, where.password});
    }
    if (where.database != 0) handshake.push_back({"SELECT", std::to_string(where.database)});
    // A server that refuses our client certificate says so after TLS 1.3's handshake, at the
    // first read: a PING makes that read happen here, where the error is the connection's.
    if (where.tls && handshake.empty()) handshake.push_back({"PING"});
    for (auto& command : handshake) {
        const reply r = co_await async_execute(state, std::move(command),
                                               asio::redirect_error(asio::use_awaitable, ec));
        if (!ec && r.is_error()) ec = handshake_error(r);
        if (ec) {
            state->fail(ec);
            co_return ec;
        }
    }
    co_return ec;
}

/// `open_unbounded` within `where.connect_timeout`: when it expires the socket is closed, which
/// ends whatever step was waiting, and the connection fails with `error::connect_timeout`.
inline asio::awaitable<error_code> open(std::shared_ptr<connection_state> state, server where) {
    auto expired = std::make_shared<bool>(false);
    asio::steady_timer deadline(state->strand(), where.connect_timeout);
    deadline.async_wait([state, expired](error_code ec) {
        if (ec) return;  // cancelled: open_unbounded ended in time
        *expired = true;
        state->fail(make_error_code(error::connect_timeout));
    });
    error_code ec = co_await open_unbounded(state, std::move(where), expired);
    deadline.cancel();
    if (*expired) {
        ec = make_error_code(error::connect_timeout);
        state->fail(ec);  // a step that ended in spite of the closed socket
    }
    co_return ec;
}

}  // namespace detail

/// One TCP connection (TLS optional) to a Redis server, driven by Asio: no
/// thread of its own and no blocking call. hiredis formats the commands and
/// parses the replies; the socket is Asio's.
///
/// Commands may be issued from any thread, any number at once: they are
/// written in the order they were issued, several per write while one is in
/// progress (pipelining), and each completes with its own reply, in order.
/// A command the server refuses completes with an error *reply*; the
/// `error_code` is for the connection itself (refused, lost, garbled),
/// and a connection that failed fails every command in flight and every
/// later one until it is connected again.
///
/// ```cpp
/// sa::redis::connection redis(io.get_executor());
/// co_await redis.async_connect({asio::ip::address_v4::loopback(), 6379}, asio::use_awaitable);
/// sa::redis::reply r = co_await redis.async_execute({"XADD", "log", "*", "line", text},
///                                                   asio::use_awaitable);
/// ```
class connection {
public:
    /// A connection whose I/O runs on `executor` (through a strand of it).
    explicit connection(const asio::any_io_executor& executor)
        : state_(std::make_shared<detail::connection_state>(executor)) {}

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Closes the connection; commands in flight complete with
    /// `operation_aborted`.
    ~connection() { close(); }

    /// The strand the connection's I/O runs on.
    asio::any_io_executor get_executor() const { return state_->strand(); }

    /// Connects to the server at `endpoint`, without credentials: `void(error_code)`.
    /// Connecting again after a failure starts afresh (commands that failed are not replayed).
    template <class CompletionToken>
    auto async_connect(const asio::ip::tcp::endpoint& endpoint, CompletionToken&& token) {
        return async_connect(server::at(endpoint), std::forward<CompletionToken>(token));
    }

    /// Connects to `where` (resolving its host), over TLS when `where.tls` is set, then
    /// authenticates and selects its database before any other command is written:
    /// `void(error_code)`. A refused `AUTH` completes with `error::authentication_failed` (a user
    /// without the right to a handshake command: `no_permission`), a certificate that does not
    /// verify with `certificate_untrusted` or `certificate_host_mismatch`, the connection closed.
    /// Connecting again starts afresh.
    template <class CompletionToken>
    auto async_connect(server where, CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(error_code)>(
            [state = state_](auto handler, server where) {
                asio::co_spawn(state->strand(), detail::open(state, std::move(where)),
                               [state, handler = std::move(handler)](
                                   const std::exception_ptr& thrown, error_code ec) mutable {
                                   // open() catches nothing: only allocation can throw there.
                                   if (thrown) ec = make_error_code(error::not_connected);
                                   sweet_async::detail::post_completion(std::move(handler),
                                                                        state->strand(), ec);
                               });
            },
            token, std::move(where));
    }

    /// Sends `command` (the command's name, then its arguments; binary-safe)
    /// and completes with the server's reply: `void(error_code, reply)`.
    template <class CompletionToken>
    auto async_execute(std::vector<std::string> command, CompletionToken&& token) {
        return detail::async_execute(state_, std::move(command),
                                     std::forward<CompletionToken>(token));
    }

    /// Sends `commands` back to back (one write, pipelined) and completes
    /// once every reply is in: `void(error_code, std::vector<reply>)`,
    /// the replies in the commands' order. An empty batch completes at once.
    template <class CompletionToken>
    auto async_execute_batch(std::vector<std::vector<std::string>> commands,
                             CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(error_code, std::vector<reply>)>(
            [state = state_](auto handler, const std::vector<std::vector<std::string>>& commands) {
                using handler_type = decltype(handler);
                auto batch =
                    std::make_unique<detail::batch_reply<handler_type, asio::any_io_executor>>(
                        std::move(handler), state->strand(), commands.size());
                if (commands.empty()) return batch->finish();
                std::unique_ptr<detail::pending_reply> waiter = std::move(batch);
                std::string bytes;
                for (const auto& command : commands)
                    bytes += detail::format_command(command);
                asio::dispatch(state->strand(), [state, bytes = std::move(bytes),
                                                 waiter = std::move(waiter)]() mutable {
                    state->enqueue(std::move(bytes), std::move(waiter));
                });
            },
            token, std::move(commands));
    }

    /// Closes the connection: commands in flight complete with
    /// `operation_aborted`. Any thread.
    void close() {
        asio::dispatch(state_->strand(), [state = state_] {
            state->fail(make_error_code(asio::error::operation_aborted));
        });
    }

private:
    std::shared_ptr<detail::connection_state> state_;
};

}  // namespace sweet_async::redis

#endif  // SWEET_ASYNC_REDIS_CONNECTION_HPP
