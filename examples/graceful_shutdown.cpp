// graceful_shutdown: a service that stops on SIGINT or SIGTERM, serving every request it had
// accepted before it ends.
//
// What it demonstrates:
//   * `asio::signal_set` on the task's io_context: the first SIGINT/SIGTERM calls
//     `cancel(graceful)`: the task accepts nothing new, and finishes everything already sent;
//   * a second signal, or a grace period that runs out (5 s here), escalates to
//     `cancel(immediate)`: the requests still waiting then end cancelled, with the reason;
//   * a request sent after the signal is refused (`send` throws `closed`), so a producer knows;
//   * the final result accounts for every accepted request: sent == processed here.
//
// To run on its own in CI, the client sends 200 requests, then sends SIGTERM to its own process
// (as `kill` or Ctrl-C would), then tries one more request 50 ms later.

#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <csignal>
#include <optional>
#include <system_error>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

/// A request the service serves in about 2 ms (a call to a database, say).
asio::awaitable<int> serve(int request) {
    asio::steady_timer work(co_await asio::this_coro::executor, 2ms);
    co_await work.async_wait(asio::use_awaitable);
    co_return request * 2;
}

/// Stands in for the service's clients: 200 requests, then SIGTERM, then one more.
template <class Task>
asio::awaitable<void> client(Task service) {
    for (int request = 1; request <= 200; ++request)
        co_await service.send(request);
    fmt::print("client: 200 requests accepted; sending SIGTERM\n");
    std::raise(SIGTERM);
    asio::steady_timer later(co_await asio::this_coro::executor, 50ms);
    co_await later.async_wait(asio::use_awaitable);
    try {
        co_await service.send(201);
        fmt::print("client: request 201 accepted (unexpected)\n");
    } catch (const sa::async_task_exception& e) {
        fmt::print("client: request 201 refused: {}\n", sa::async_task_error(e.code().value()));
    }
}

}  // namespace

int main() {
    asio::io_context io;
    auto service = sa::emitting_builder<int>(io)
                       .name("requests")
                       .capacity(64)
                       .receiver(sa::parallel{.workers = {1, 16}}, serve)
                       .start_queue();

    // First signal: drain. Second signal, or the grace period over: stop now.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer grace(io);
    signals.async_wait([&](sweet_async::error_code ec, int signal) {
        if (ec) return;  // cancelled: the service ended first
        fmt::print("service: {} received: accepting nothing new, draining what was accepted\n",
                   signal == SIGTERM ? "SIGTERM" : "SIGINT");
        service.cancel(sa::cancellation_level::graceful);
        grace.expires_after(5s);
        grace.async_wait([&](sweet_async::error_code timer) {
            if (!timer) service.cancel(sa::cancellation_level::immediate);
        });
        signals.async_wait([&](sweet_async::error_code again, int) {
            if (!again) service.cancel(sa::cancellation_level::immediate);
        });
    });

    asio::co_spawn(io, client(service), asio::detached);
    std::optional<decltype(service)::result_type> result;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            result = co_await service.wait();
            grace.cancel();  // nothing left to wait for: io.run() returns once the client is done
            signals.cancel();
        },
        asio::detached);
    io.run();
    if (!result) {
        fmt::print("the service did not end\n");
        return 1;
    }

    const auto& stats = result->stats();
    fmt::print("service: {}: accepted {}, served {}, failed {}, cancelled {}\n", result->status(),
               stats.sent, stats.processed, stats.failed, stats.cancelled);
    const bool ok = result->status() == sa::task_status::cancelled && stats.sent == 200 &&
                    stats.processed == 200 && stats.balanced();
    fmt::print("{}\n", ok ? "every accepted request was served before the service stopped"
                          : "REQUESTS LOST");
    return ok ? 0 : 1;
}
