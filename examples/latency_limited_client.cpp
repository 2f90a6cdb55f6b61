// latency_limited_client: a client of a service that slows down under load, with a fixed
// concurrency and with a Vegas concurrency limit.
//
//     latency_limited_client [requests]      (default: 6000)
//
// The (simulated) service has 8 servers taking 2 ms per request; more requests wait in its
// queue, so its latency grows with the load it is given: with 64 in flight each takes about
// 16 ms. Throughput cannot go above 8 per 2 ms whatever the client does; what the client
// decides is how long its requests wait and how much it piles onto the service.
//
// What it demonstrates:
//   * `parallel{.workers = {1, 64}}`: as much concurrency as allowed, all of it queued at the
//     service;
//   * `sa::concurrency_limit::vegas()`: a limit set from measured latency, which settles where
//     the service starts to queue: the same throughput at a fraction of the latency;
//   * a `concurrency_limit` set by hand from another thread while the task runs.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

/// The service: 8 servers, each taking 2 ms per request; a request that finds them all busy
/// waits for the first to be free (first come, first served).
class service {
public:
    explicit service(asio::io_context& io) : io_(io) {}

    asio::awaitable<int> call(int request) {
        most_ = std::max(most_, ++in_flight_);
        // The server free soonest takes it, when it is free.
        auto server = std::min_element(free_at_.begin(), free_at_.end());
        const auto start = std::max(*server, std::chrono::steady_clock::now());
        *server = start + 2ms;
        asio::steady_timer reply(io_, *server);
        co_await reply.async_wait(asio::use_awaitable);
        --in_flight_;
        co_return request;
    }

    std::size_t most_in_flight() const noexcept { return most_; }

private:
    asio::io_context& io_;
    std::array<std::chrono::steady_clock::time_point, 8> free_at_{};
    std::size_t in_flight_ = 0;  // the io_context's single thread only
    std::size_t most_ = 0;
};

struct figures {
    double seconds = 0;
    double mean_latency_ms = 0;
    std::size_t most_in_flight = 0;
};

/// Sends `requests` requests through a task whose strategy is `strategy`, on one thread.
figures run(std::size_t requests, const sa::parallel& strategy) {
    asio::io_context io;
    service backend(io);
    std::chrono::nanoseconds total_latency{0};
    auto task = sa::emitting_builder<int>(io)
                    .name("client")
                    .capacity(requests)
                    .receiver(strategy,
                              [&](int request) -> asio::awaitable<int> {
                                  const auto sent = std::chrono::steady_clock::now();
                                  const int reply = co_await backend.call(request);
                                  total_latency += std::chrono::steady_clock::now() - sent;
                                  co_return reply;
                              })
                    .start_queue();
    for (std::size_t i = 0; i < requests; ++i)
        (void)task.try_send(static_cast<int>(i));  // the channel holds them all
    task.close();
    const auto started = std::chrono::steady_clock::now();
    auto result = asio::co_spawn(io, task.wait(), asio::use_future);
    io.run();
    const auto final_result = result.get();
    if (final_result.stats().processed != requests)
        throw std::runtime_error(fmt::format("requests lost: {}", final_result));
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    return {took.count(),
            std::chrono::duration<double, std::milli>(total_latency).count() /
                static_cast<double>(requests),
            backend.most_in_flight()};
}

void print(const char* label, const figures& f, std::size_t requests) {
    fmt::print("  {:<28} {:8.0f} requests/s  mean latency {:6.2f} ms  most in flight {}\n", label,
               static_cast<double>(requests) / f.seconds, f.mean_latency_ms, f.most_in_flight);
}

}  // namespace

int main(int argc, char* argv[]) {
    const std::size_t requests = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 6000;
    if (requests == 0) {
        fmt::print(stderr, "usage: {} [requests > 0]\n", argv[0]);
        return 2;
    }
    fmt::print("{} requests to a service that serves 8 at once in 2 ms (at most 4000/s):\n",
               requests);

    const auto fixed = run(requests, sa::parallel{.workers = {1, 64}});
    print("parallel{1, 64}", fixed, requests);

    const auto vegas = sa::concurrency_limit::vegas({.initial = 4});
    const auto limited = run(requests, sa::parallel{.workers = {1, 64}, .limit = vegas});
    print("parallel{1, 64}, vegas limit", limited, requests);
    fmt::print("  the vegas limit ended at {} ({})\n", vegas.get(), vegas);

    // A limit set by hand, from another thread, while the task runs: 16, then 4.
    sa::concurrency_limit knob(16);
    std::atomic<bool> done{false};
    std::thread operator_thread([&] {
        std::this_thread::sleep_for(200ms);  // an operator's decision, some time in
        if (!done) knob.set(4);
    });
    const auto by_hand = run(requests, sa::parallel{.workers = {1, 64}, .limit = knob});
    done = true;
    operator_thread.join();
    print("parallel{1, 64}, limit 16 -> 4", by_hand, requests);

    // The limiter keeps the throughput and cuts the latency the fixed concurrency piles up.
    const bool latency_cut = limited.mean_latency_ms < fixed.mean_latency_ms / 2;
    const bool throughput_kept = limited.seconds < fixed.seconds * 1.5;
    const bool bounded =
        limited.most_in_flight < fixed.most_in_flight && by_hand.most_in_flight <= 16;
    fmt::print("vegas: latency {:.1f}x lower, throughput {:.2f}x of fixed: {}\n",
               fixed.mean_latency_ms / limited.mean_latency_ms, fixed.seconds / limited.seconds,
               latency_cut && throughput_kept && bounded ? "as expected" : "NOT AS EXPECTED");
    return latency_cut && throughput_kept && bounded ? 0 : 1;
}
