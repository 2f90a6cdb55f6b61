// The consumer program of the installed component redis: a redis::connection to a port where
// nothing listens must fail with a clear error, not hang (no server is needed to check that the
// headers, hiredis and the link line fit together).
#include <cstdio>
#include <future>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_future.hpp>

#include <sweet_async/redis.hpp>

int main() {
    asio::io_context io;
    sweet_async::redis::connection redis(io.get_executor());
    auto connected =
        redis.async_connect({asio::ip::address_v4::loopback(), 1}, asio::use_future);  // port 1
    io.run();
    try {
        connected.get();
    } catch (const sweet_async::system_error& e) {
        std::printf("sweet_async::redis installed: connecting to port 1 failed as it should: %s\n",
                    e.what());
        return 0;
    }
    std::printf("connecting to port 1 succeeded: something listens there\n");
    return 1;
}
