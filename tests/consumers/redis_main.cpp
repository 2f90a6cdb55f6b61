// The consumer program of the installed components redis and redis_tls: a redis::connection to
// a port where nothing listens, over TCP and over TLS, must fail with a clear error, not hang (no
// server is needed to check that the headers, hiredis, OpenSSL and the link line fit together).
#include <cstdio>
#include <future>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_future.hpp>

#include <sweet_async/redis.hpp>
#include <sweet_async/redis/tls.hpp>

namespace {

/// True when connecting to `where` fails (nothing listens on port 1), printing why.
bool refused(asio::io_context& io, const sweet_async::redis::server& where) {
    sweet_async::redis::connection redis(io.get_executor());
    auto connected = redis.async_connect(where, asio::use_future);
    io.restart();
    io.run();
    try {
        connected.get();
    } catch (const sweet_async::system_error& e) {
        std::printf("sweet_async::redis installed: connecting to %s failed as it should: %s\n",
                    where.to_url().c_str(), e.what());
        return true;
    }
    std::printf("connecting to port 1 succeeded: something listens there\n");
    return false;
}

}  // namespace

int main() {
    asio::io_context io;
    const auto plain = sweet_async::redis::server::at({asio::ip::address_v4::loopback(), 1});
    const auto tls = sweet_async::redis::server::from_url("rediss://127.0.0.1:1");
    return refused(io, plain) && refused(io, tls) ? 0 : 1;
}
