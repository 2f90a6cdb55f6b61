// strategy_serial: one event at a time, in arrival order; the strategy to start with.
//
// What it demonstrates:
//   * order that matters: a ledger whose processor keeps the balance in a plain variable. Under
//     `sa::serial{}` the processor is never called concurrently (no lock needed) and events are
//     processed in the order they were sent, so each result is the balance after that operation,
//     and a withdrawal larger than the balance fails exactly where it would on paper; its
//     exception's message ends up in `result.errors()` with the event's sequence number;
//   * when serial wins: cheap synchronous work (tens of ns per event). Serial drains the channel
//     without suspending, allocating or locking per event, while `sa::parallel` dispatches every
//     event to a thread of the pool, which costs more than the work itself.
//
// What to look at in the output: the ledger's balances line up with the operations, one
// withdrawal fails with its reason, and serial processes cheap events many times faster than
// parallel{2,2} on the same 2-thread pool.

#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;

namespace {

/// The producer: sends every payload, the last one as the final event, then waits for the
/// result. Takes the task handle and the payloads by value: the coroutine outlives the caller's
/// statement that starts it.
template <class Task, class T>
asio::awaitable<typename Task::result_type> feed(Task task, std::vector<T> payloads) {
    for (std::size_t i = 0; i + 1 < payloads.size(); ++i)
        co_await task.send(payloads[i]);
    co_await task.send_final(payloads.back());
    co_return co_await task.wait();
}

// ----- part 1: order matters ---------------------------------------------------------------

struct operation {
    enum kind_type { deposit, withdrawal } kind;
    std::int64_t amount;
};

bool run_ledger() {
    const std::vector<operation> operations{
        {operation::deposit, 100}, {operation::withdrawal, 30}, {operation::withdrawal, 80},
        {operation::deposit, 50},  {operation::withdrawal, 80}, {operation::deposit, 5},
    };
    fmt::print("ledger: {} operations, processed in the order they were sent\n", operations.size());

    asio::thread_pool pool(2);
    std::int64_t balance = 0;  // the processor's state: serial never calls it concurrently
    auto task = sa::emitting_builder<operation>(pool)
                    .name("ledger")
                    .receiver(sa::serial{},
                              [&balance](const operation& op) {
                                  if (op.kind == operation::withdrawal && op.amount > balance) {
                                      throw std::runtime_error(
                                          fmt::format("withdrawal of {} exceeds the balance of {}",
                                                      op.amount, balance));
                                  }
                                  balance += op.kind == operation::deposit ? op.amount : -op.amount;
                                  return balance;  // the balance after this operation
                              })
                    .start_queue();
    const auto result = asio::co_spawn(pool, feed(task, operations), asio::use_future).get();

    // The default keyed collector keeps results in the order they were collected: here, the
    // order of the operations. Walk both together; the failed event is in errors(), under its
    // sequence number (its arrival index).
    std::vector<std::int64_t> balances;
    auto next_result = result.collection().begin();
    for (std::size_t i = 0; i < operations.size(); ++i) {
        const operation& op = operations[i];
        fmt::print("  #{} {:<10} {:>4} -> ", i,
                   op.kind == operation::deposit ? "deposit" : "withdrawal", op.amount);
        if (!result.errors().empty() && result.errors()[0].sequence == i) {
            fmt::print("{}: {}\n", result.errors()[0].kind, result.errors()[0].message);
        } else if (next_result != result.collection().end()) {
            balances.push_back(next_result->value);
            fmt::print("balance {}\n", next_result->value);
            ++next_result;
        }
    }
    fmt::print("  {}\n\n", result);

    const std::vector<std::int64_t> expected{100, 70, 120, 40, 45};
    return result.status() == sa::task_status::completed && result.stats().balanced() &&
           balances == expected && result.errors().size() == 1 &&
           result.errors()[0].sequence == 2 && result.errors()[0].kind == sa::outcome::failed;
}

// ----- part 2: cheap work ------------------------------------------------------------------

constexpr std::size_t cheap_events = 200'000;

/// A few tens of ns of arithmetic: a stand-in for parsing a short record or updating a counter.
std::uint64_t mix(const std::uint64_t& x) {
    std::uint64_t h = x;
    for (int round = 0; round < 8; ++round)
        h = (h ^ (h >> 31)) * 0x9E3779B97F4A7C15ULL;
    return h;
}

struct measurement {
    double seconds = 0;
    bool ok = false;
};

template <class Strategy>
measurement run_cheap(const char* label, Strategy strategy) {
    fmt::print("running {} with {} cheap events ...\n", label, cheap_events);
    asio::thread_pool pool(2);
    // Only the sum of the results is needed: a fold collector keeps no per-event results.
    auto task = sa::emitting_builder<std::uint64_t>(pool)
                    .name(label)
                    .receiver(strategy, mix)
                    .collector(sa::fold_collector{
                        std::uint64_t{0}, [](std::uint64_t& sum, std::uint64_t h) { sum += h; }})
                    .start_queue();
    std::vector<std::uint64_t> inputs(cheap_events);
    std::uint64_t expected = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        inputs[i] = i;
        expected += mix(i);
    }
    const auto result = asio::co_spawn(pool, feed(task, std::move(inputs)), asio::use_future).get();
    fmt::print("  {}\n", result);
    return {.seconds = std::chrono::duration<double>(result.stats().elapsed).count(),
            .ok = result.status() == sa::task_status::completed &&
                  result.stats().processed == cheap_events && result.result() == expected};
}

}  // namespace

int main() {
    fmt::print("strategy_serial: ordered processing, and where serial is the fastest choice\n\n");
    const bool ledger_ok = run_ledger();

    const measurement serial = run_cheap("serial", sa::serial{});
    const measurement parallel = run_cheap("parallel{2,2}", sa::parallel{.workers = {2, 2}});
    const auto rate = [](const measurement& m) {
        return m.seconds > 0 ? static_cast<double>(cheap_events) / m.seconds : 0.0;
    };
    fmt::print("\n{:<16} {:>12}\n{:<16} {:>12.0f}\n{:<16} {:>12.0f}\n", "strategy", "events/s",
               "serial", rate(serial), "parallel{2,2}", rate(parallel));
    fmt::print("serial / parallel: {:.2f}x\n",
               rate(parallel) > 0 ? rate(serial) / rate(parallel) : 0.0);

    const bool ok = ledger_ok && serial.ok && parallel.ok;
    if (!ok) fmt::print("\nsomething is off: see the lines above\n");
    return ok ? 0 : 1;
}
