// ledger_per_key: a ledger of many accounts, each account's transactions applied in order,
// the accounts in parallel.
//
//     ledger_per_key [transactions] [accounts]      (default: 4000 transactions, 500 accounts)
//
// What it demonstrates:
//   * `sa::per_key`: the key is the account; one transaction per account at a time, in the
//     order they arrived, and up to 64 accounts at once;
//   * why the order matters: a debit that would overdraw its account is refused, so applying
//     an account's transactions out of order changes which ones are refused and the balances;
//   * a refused debit fails that transaction only, and the account's later ones go on
//     (`stop_key_on_failure` would stop the account instead);
//   * the same stream through `serial`, which keeps the order of the whole stream, and the
//     speed-up per-key ordering gives over it with the very same results.
//
// Each transaction is written to a (simulated) store that takes 300 us per write.

#include <sweet_async/sweet_async.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

struct transaction {
    std::uint32_t account = 0;
    std::int64_t cents = 0;  // a deposit, or a debit when negative
};

/// The accounts' balances, applied to by the processor (from the pool's threads).
class ledger {
public:
    /// Applies `t`; throws for a debit the balance cannot cover.
    std::int64_t apply(const transaction& t) {
        std::lock_guard lock(mutex_);
        std::int64_t& balance = balances_[t.account];
        if (balance + t.cents < 0) {
            throw std::runtime_error(fmt::format("account {}: debit of {} exceeds the balance {}",
                                                 t.account, -t.cents, balance));
        }
        balance += t.cents;
        return balance;
    }

    std::map<std::uint32_t, std::int64_t> balances() {
        std::lock_guard lock(mutex_);
        return balances_;
    }

private:
    std::mutex mutex_;
    std::map<std::uint32_t, std::int64_t> balances_;
};

/// A day of transactions: deposits and debits, over `accounts` accounts, fixed by the seed.
std::vector<transaction> make_transactions(std::size_t count, std::uint32_t accounts) {
    std::mt19937 random(20261206);
    std::uniform_int_distribution<std::uint32_t> account(0, accounts - 1);
    std::uniform_int_distribution<int> amount(1, 100);
    std::vector<transaction> out;
    for (std::size_t i = 0; i < count; ++i) {
        const bool deposit = random() % 5 < 3;  // three deposits in five
        out.push_back(transaction{account(random), (deposit ? 1 : -1) * amount(random) * 100});
    }
    return out;
}

struct run_figures {
    double seconds = 0;
    std::size_t applied = 0;
    std::size_t refused = 0;
    std::map<std::uint32_t, std::int64_t> balances;
};

/// Applies `transactions` under `strategy` on a 2-thread pool; every write takes 300 us.
template <class Strategy>
run_figures run(const std::vector<transaction>& transactions, Strategy strategy) {
    asio::thread_pool pool(2);
    ledger accounts;
    auto task =
        sa::emitting_builder<transaction>(pool)
            .name("ledger")
            .capacity(512)
            .receiver(strategy,
                      [&accounts](transaction t) -> asio::awaitable<std::int64_t> {
                          const std::int64_t balance = accounts.apply(t);
                          asio::steady_timer write(co_await asio::this_coro::executor, 300us);
                          co_await write.async_wait(asio::use_awaitable);
                          co_return balance;
                      })
            .collector(
                sa::fold_collector{std::size_t{0}, [](std::size_t& n, std::int64_t) { ++n; }})
            .start_queue();
    const auto started = std::chrono::steady_clock::now();
    for (const auto& t : transactions)
        task.async_send(t, asio::use_future).get();
    task.close();
    const auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    if (!result.stats().balanced() || result.status() != sa::task_status::completed)
        throw std::runtime_error(fmt::format("the ledger lost track: {}", result));
    return {took.count(), result.result(), result.stats().failed, accounts.balances()};
}

}  // namespace

int main(int argc, char* argv[]) {
    const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 4000;
    const auto accounts =
        static_cast<std::uint32_t>(argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 500);
    if (count == 0 || accounts == 0) {
        fmt::print(stderr, "usage: {} [transactions > 0] [accounts > 0]\n", argv[0]);
        return 2;
    }
    const auto transactions = make_transactions(count, accounts);

    const auto serial = run(transactions, sa::serial{});
    const auto keyed = run(transactions, sa::per_key([](const transaction& t) { return t.account; },
                                                     {.workers = {1, 64}}));

    fmt::print("{} transactions over {} accounts, each write 300 us:\n", count, accounts);
    fmt::print("  serial           {:7.3f} s  applied {}  refused {}\n", serial.seconds,
               serial.applied, serial.refused);
    fmt::print("  per_key{{1, 64}}  {:7.3f} s  applied {}  refused {}  ({:.1f}x serial)\n",
               keyed.seconds, keyed.applied, keyed.refused, serial.seconds / keyed.seconds);

    // Each account saw its transactions in order under both: the same debits were refused and
    // every balance is the same.
    const bool same = serial.balances == keyed.balances && serial.refused == keyed.refused &&
                      serial.applied == keyed.applied;
    fmt::print("  the same balances and refusals as serial: {}\n", same ? "yes" : "NO");
    return same ? 0 : 1;
}
