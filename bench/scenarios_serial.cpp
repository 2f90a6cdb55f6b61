// bench/scenarios_serial.cpp: the cost of moving an event. A trivial processor under `serial`
// (default keyed collection and fold collector; `try_send` first and `co_await send` per event)
// and `adaptive`, against the hand-written Asio channel loop (a) and a plain loop (b).
#include <sweet_async/sweet_async.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "measure.hpp"
#include "scenarios.hpp"
#include "tasks.hpp"
#include "workloads.hpp"

namespace bench {

namespace {

// ----- the baselines -------------------------------------------------------------------------

/// (b) the ceiling: the same work in a plain loop, no channel, no coroutine.
run_result run_plain_loop(std::size_t events) {
    const auto started = steady::now();
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < events; ++i) {
        sum += trivial_work(i);
        keep(sum);  // one result per item, as a consumer would store it; no vectorised closed form
    }
    return run_result{.events = events, .seconds = seconds_since(started)};
}

using asio_channel = asio::experimental::channel<void(sweet_async::error_code, std::uint64_t)>;

asio::awaitable<void> channel_producer(asio_channel& channel, std::size_t events, bool try_first) {
    for (std::uint64_t i = 0; i < events; ++i) {
        if (try_first && channel.try_send(sweet_async::error_code{}, i)) continue;
        co_await channel.async_send(sweet_async::error_code{}, i, asio::use_awaitable);
    }
}

asio::awaitable<void> channel_consumer(asio_channel& channel, std::size_t events, bool try_first,
                                       std::uint64_t& sum) {
    const auto take = [&sum](sweet_async::error_code, std::uint64_t value) {
        sum += trivial_work(value);
    };
    for (std::size_t received = 0; received < events;) {
        if (try_first && channel.try_receive(take)) {
            ++received;
            continue;
        }
        take({}, co_await channel.async_receive(asio::use_awaitable));
        ++received;
    }
}

/// (a) what a user writes without the library: one producer awaiting `async_send` for every
/// item into an Asio channel of capacity 100, one consumer awaiting `async_receive` for every
/// item, on one thread. With `try_first`, both try the non-suspending operation first.
run_result run_channel_loop(std::size_t events, bool try_first) {
    asio::io_context io;
    const auto started = steady::now();
    asio_channel channel(io, 100);
    std::uint64_t sum = 0;
    asio::co_spawn(io, channel_producer(channel, events, try_first), asio::detached);
    asio::co_spawn(io, channel_consumer(channel, events, try_first, sum), asio::detached);
    io.run();
    const double seconds = seconds_since(started);
    keep(sum);
    return run_result{.events = events, .seconds = seconds};
}

/// The contestants of the group, in the order they are listed (and run).
enum contestant_index : std::size_t {
    channel_await,
    plain_loop,
    channel_try_first,
    serial_keyed,
    serial_fold,
    serial_keyed_await,
    serial_fold_await,
    adaptive_keyed,
};

}  // namespace

std::vector<row> run_serial_group(const settings& s) {
    const std::size_t events = s.pick<std::size_t>(2'000'000, 500'000);
    const std::vector<contestant> contestants{
        {"(a) asio channel, await each", [=] { return run_channel_loop(events, false); }},
        {"(b) plain loop", [=] { return run_plain_loop(events); }},
        {"asio channel, try first", [=] { return run_channel_loop(events, true); }},
        on_one_thread("serial keyed, try_send", trivial_keyed(sa::serial{}), events),
        on_one_thread("serial fold, try_send", trivial_fold(sa::serial{}), events),
        on_one_thread("serial keyed, co_await send", trivial_keyed(sa::serial{}), events,
                      index_payload{}, send_path::await_each),
        on_one_thread("serial fold, co_await send", trivial_fold(sa::serial{}), events,
                      index_payload{}, send_path::await_each),
        on_one_thread("adaptive keyed, try_send", trivial_keyed(sa::adaptive{}), events),
    };
    const auto m = round_robin(contestants, s.repetitions);
    const measured& a = m[channel_await];
    // The fixed strategy on the adaptive's workload (same collection, same producer).
    const measured* const fixed[] = {&m[serial_keyed]};
    return {
        compare("serial.trivial.keyed", m[serial_keyed], a, 1.5),
        compare("serial.trivial.fold", m[serial_fold], a, 3.0),
        compare("serial.trivial.keyed.await_send", m[serial_keyed_await], a, {}),
        compare("serial.trivial.fold.await_send", m[serial_fold_await], a, {}),
        compare("baseline.plain_loop", m[plain_loop], a, {}),
        compare("baseline.channel_try_first", m[channel_try_first], a, {}),
        compare_with_best_fixed("adaptive.trivial", m[adaptive_keyed], fixed, 0.9),
    };
}

}  // namespace bench
