// Three worker processes (stream_worker.cpp) share one consumer group over 100 000 entries; one
// is killed with SIGKILL mid-stream. The survivors take over its pending entries (XAUTOCLAIM)
// and finish: every entry is processed at least once (its output entry is on the server) and
// acknowledged, none is lost. The scenario (which worker, when) comes from a printed seed:
// SWEET_ASYNC_STRESS_SEED replays it (tests/stress_support.hpp). Once more over TLS, the workers
// an ACL user with only the permissions a worker needs.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include <sweet_async/redis.hpp>

#include "redis_server.hpp"
#include "stress_support.hpp"
#include "sweet_async_catch.hpp"

#include <sys/types.h>
#include <sys/wait.h>

namespace redis = sweet_async::redis;
using redis_test::redis_server;
using redis_test::scene;

namespace {

/// A worker process, killed if the test leaves before it ended.
class worker_process {
public:
    /// A worker connecting to `url` (with `ca_file`, the authority to trust over TLS).
    worker_process(const std::string& url, const std::string& ca_file, const std::string& consumer,
                   std::chrono::milliseconds claim_idle) {
        std::vector<std::string> args{
            SWEET_ASYNC_REDIS_TEST_WORKER,     url, "input", "workers", consumer, "output",
            std::to_string(claim_idle.count())};
        if (!ca_file.empty()) args.push_back(ca_file);
        pid_ = redis_test::spawn(args);
    }
    worker_process(const worker_process&) = delete;
    worker_process& operator=(const worker_process&) = delete;
    ~worker_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    void kill() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    /// The exit status once it ended by itself, or -1 if it has not ended by `deadline`.
    int wait_until(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (std::chrono::steady_clock::now() > deadline) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polls a process end
        }
    }

private:
    pid_t pid_ = -1;
};

/// Every entry of `stream`, read 10 000 at a time.
std::vector<redis::stream_entry> read_all(scene& redis_cli, const std::string& stream) {
    std::vector<redis::stream_entry> all;
    std::string from = "-";
    for (;;) {
        auto page =
            redis::parse_entries(redis_cli({"XRANGE", stream, from, "+", "COUNT", "10000"}));
        if (page.empty()) return all;
        from = "(" + page.back().id;
        std::move(page.begin(), page.end(), std::back_inserter(all));
    }
}

/// How the workers reach the server.
struct worker_access {
    std::string url;      // redis:// or rediss://, with the worker's credentials
    std::string ca_file;  // for rediss://
};

/// The kill-a-worker scenario of `seed` over `entries` entries, on the server `redis_cli` sets
/// up and checks, the workers connecting as `access` says.
void kill_a_worker(std::uint64_t seed, int entries, scene& redis_cli, const worker_access& access) {
    constexpr std::chrono::milliseconds claim_idle{300};
    stress_support::random_source random(seed);
    const auto victim = static_cast<std::size_t>(random.below(3));
    // Killed once the output holds this many entries: early, halfway or late.
    const auto kill_after =
        static_cast<std::int64_t>(random.between(entries / 50, entries * 4 / 5));
    INFO(fmt::format("scenario {:#018x}: worker {} killed after {} outputs", seed, victim,
                     kill_after));
    for (int first = 0; first < entries; first += 1000)
        redis_cli.add("input", first, std::min(1000, entries - first));
    std::vector<std::string> input_ids;
    for (const auto& e : read_all(redis_cli, "input"))
        input_ids.push_back(e.id);
    REQUIRE(input_ids.size() == static_cast<std::size_t>(entries));

    std::vector<std::unique_ptr<worker_process>> workers;
    for (int i = 0; i < 3; ++i) {
        workers.push_back(std::make_unique<worker_process>(
            access.url, access.ca_file, fmt::format("worker-{}", i), claim_idle));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (redis_cli({"XLEN", "output"}).integer < kill_after) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polls the output
    }
    workers[victim]->kill();
    for (std::size_t i = 0; i < workers.size(); ++i) {
        if (i == victim) continue;
        INFO("worker " << i);
        CHECK(workers[i]->wait_until(deadline) == 0);
    }

    // Nothing pending, nothing dead-lettered, every entry delivered.
    CHECK(redis_cli.pending("input", "workers") == 0);
    CHECK(redis_cli({"XLEN", "input:dead"}).integer == 0);
    // Every input entry has at least one output entry; redeliveries (the victim's entries
    // written but not acknowledged) may have two, with the same number.
    std::unordered_map<std::string, std::string> number_of;
    std::size_t outputs = 0;
    std::size_t wrong_numbers = 0;
    for (const auto& out : read_all(redis_cli, "output")) {
        ++outputs;
        const std::string entry(out.field("entry").value_or(""));
        const std::string n(out.field("n").value_or(""));
        const auto [it, first] = number_of.emplace(entry, n);
        if (!first && it->second != n) ++wrong_numbers;
    }
    CHECK(wrong_numbers == 0);
    std::size_t missing = 0;
    for (std::size_t i = 0; i < input_ids.size(); ++i) {
        const auto found = number_of.find(input_ids[i]);
        if (found == number_of.end() || found->second != std::to_string(i)) ++missing;
    }
    CHECK(missing == 0);
    CHECK(number_of.size() == input_ids.size());
    fmt::print("[stress] kill-a-worker {:#018x}{}: worker {} killed after {} outputs; {} outputs "
               "for {} entries ({} written twice)\n",
               seed, access.ca_file.empty() ? "" : " (TLS)", victim, kill_after, outputs, entries,
               outputs - number_of.size());
}

}  // namespace

TEST_CASE("redis workers: three processes share 100 000 entries, one is killed mid-stream, the "
          "survivors finish and every entry is processed and acknowledged",
          "[redis][stress][processes]") {
    stress_support::for_each_seed("kill-a-worker", 15, 1, [&](std::uint64_t seed) {
        redis_server server;
        scene redis_cli(server);
        kill_a_worker(
            seed, 100'000, redis_cli,
            {.url = fmt::format("redis://127.0.0.1:{}", server.endpoint().port()), .ca_file = {}});
    });
}

#ifdef SWEET_ASYNC_REDIS_TESTS_TLS
TEST_CASE("redis workers over TLS: three processes as an ACL user with a worker's permissions, "
          "one killed mid-stream, every one of 20 000 entries processed and acknowledged",
          "[redis][tls][processes]") {
    stress_support::for_each_seed("kill-a-worker-tls", 16, 1, [&](std::uint64_t seed) {
        constexpr const char* password = "tls-w0rker";
        redis_server server(false,
                            {"--user", "worker", "on", std::string(">") + password, "~input*",
                             "~output*", "+ping", "+xgroup", "+xreadgroup", "+xautoclaim", "+xack",
                             "+xadd", "+xpending"},
                            {}, redis_test::tls_listener{});
        scene redis_cli(server);
        const auto where = server.tls_address("worker", password);
        kill_a_worker(seed, 20'000, redis_cli,
                      {.url = fmt::format("rediss://worker:{}@127.0.0.1:{}", password, where.port),
                       .ca_file = where.tls->ca_file});
    });
}
#endif
