// Randomized overflow scenarios: each policy (wait, drop_newest, drop_oldest, reject) under 8
// producer threads with every send form, small channels, slow and fast consumers, several
// strategies, and a cancel at any moment. Every accepted send's id ends exactly once (processed,
// or in errors() as dropped or cancelled), the identity holds with `dropped`, a refused send is
// refused with `full` only under reject, and a serial consumer sees each producer's events in
// the order they were sent. Seeds and replay as in test_stress.cpp.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "stress_support.hpp"
#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace {

enum class consumer_kind { serial, parallel_coroutine, per_key, batched };
enum class send_form { try_send, async_send, mixed };

struct overflow_scenario {
    std::uint64_t seed = 0;
    sa::overflow_policy policy = sa::overflow_policy::wait;
    consumer_kind consumer = consumer_kind::serial;
    send_form form = send_form::try_send;
    std::size_t capacity = 1;
    std::size_t pool_threads = 1;
    std::size_t producers = 8;
    std::uint64_t events_per_producer = 0;
    bool slow = false;  // the processor yields once per event
    std::optional<sa::cancellation_level> cancel;
    std::uint64_t cancel_after = 0;  // accepted sends
};

overflow_scenario make_overflow_scenario(std::uint64_t seed) {
    stress_support::random_source r(seed);
    overflow_scenario s;
    s.seed = seed;
    s.policy = r.pick({sa::overflow_policy::wait, sa::overflow_policy::drop_newest,
                       sa::overflow_policy::drop_oldest, sa::overflow_policy::reject});
    s.consumer = r.pick({consumer_kind::serial, consumer_kind::parallel_coroutine,
                         consumer_kind::per_key, consumer_kind::batched});
    s.form = r.pick({send_form::try_send, send_form::async_send, send_form::mixed});
    // try_send under wait refuses when full; the producer then waits with async_send.
    s.capacity = r.between(1, 16);
    s.pool_threads = r.between(1, 3);
    s.events_per_producer = r.between(50, test_support::sanitized ? 150 : 600);
    s.slow = r.chance(50);
    if (r.chance(35)) {
        s.cancel =
            r.chance(50) ? sa::cancellation_level::graceful : sa::cancellation_level::immediate;
        s.cancel_after = r.below(s.producers * s.events_per_producer);
    }
    return s;
}

std::string describe(const overflow_scenario& s) {
    static constexpr const char* consumers[] = {"serial", "parallel(coroutine)", "per_key",
                                                "batched"};
    static constexpr const char* forms[] = {"try_send", "async_send", "mixed sends"};
    return fmt::format(
        "overflow scenario {:#018x}: {}, {}, {}, capacity {}, thread_pool({}), "
        "{} producers x {} events, {} processor{}",
        s.seed, s.policy, consumers[static_cast<int>(s.consumer)], forms[static_cast<int>(s.form)],
        s.capacity, s.pool_threads, s.producers, s.events_per_producer, s.slow ? "slow" : "fast",
        s.cancel ? fmt::format(", cancel({}) after {} sends", *s.cancel, s.cancel_after) : "");
}

struct sent_payload {
    std::uint64_t producer = 0;
    std::uint64_t index = 0;  // in the producer's sending order
};

/// What the producers and the processors saw, under one mutex.
struct send_record {
    std::mutex mutex;
    std::map<sa::uuid, sent_payload> accepted;                  // every send that succeeded
    std::vector<sa::uuid> processed;                            // in processing order
    std::map<std::uint64_t, std::vector<std::uint64_t>> order;  // producer -> indices processed
    std::vector<std::string> wrong;
};

std::vector<std::string> run_overflow(const overflow_scenario& s) {
    send_record seen;
    asio::thread_pool pool(s.pool_threads);
    auto note = [&](const sa::event_view<sent_payload>& e) {
        std::lock_guard lock(seen.mutex);
        seen.processed.push_back(e.id());
        seen.order[e.payload().producer].push_back(e.payload().index);
    };
    auto sync = [&](sa::event_view<sent_payload> e) -> std::uint64_t {
        note(e);
        if (s.slow) std::this_thread::yield();
        return e.payload().index;
    };
    auto coroutine = [&](sa::event_view<sent_payload> e) -> asio::awaitable<std::uint64_t> {
        if (s.slow) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        note(e);
        co_return e.payload().index;
    };

    const std::size_t total = s.producers * s.events_per_producer;
    auto builder = sa::emitting_builder<sent_payload>(pool)
                       .name("overflow-stress")
                       .capacity(s.capacity)
                       .overflow(s.policy)
                       .retain_errors(total);  // every dropped or cancelled id is listed
    std::optional<sa::sender<sent_payload>> sender;
    std::function<void(sa::cancellation_level)> cancel;
    std::function<void(std::vector<std::string>&)> finish;
    auto adopt = [&](auto task) {
        sender = task.get_sender();
        cancel = [task](sa::cancellation_level level) mutable { task.cancel(level); };
        finish = [task, &seen, &s](std::vector<std::string>& wrong) mutable {
            auto r = task.async_wait(asio::use_future).get();
            test_support::check_accounting(r);
            const sa::task_stats stats = r.stats();
            auto expect = [&](bool ok, std::string what) {
                if (!ok) wrong.push_back(std::move(what));
            };
            expect(stats.balanced(), fmt::format("unbalanced: {}", stats));
            expect(stats.sent == seen.accepted.size(),
                   fmt::format("sent {} but {} sends were accepted", stats.sent,
                               seen.accepted.size()));
            expect(r.errors_not_retained() == 0, "errors not retained");
            if (!sa::drops(s.policy)) expect(stats.dropped == 0, "dropped under a waiting policy");
            // Every accepted id ends exactly once: processed, or listed with its outcome.
            std::map<sa::uuid, int> ends;
            for (const auto& id : seen.processed)
                ++ends[id];
            std::size_t dropped = 0;
            for (const auto& error : r.errors()) {
                ++ends[error.event_id];
                if (error.kind == sa::outcome::dropped) ++dropped;
                expect(error.kind == sa::outcome::dropped || error.kind == sa::outcome::cancelled,
                       fmt::format("an event ended {}: {}", error.kind, error.message));
            }
            expect(dropped == stats.dropped,
                   fmt::format("{} dropped ids listed, {} counted", dropped, stats.dropped));
            expect(seen.processed.size() == stats.processed,
                   fmt::format("{} processed seen, {} counted", seen.processed.size(),
                               stats.processed));
            for (const auto& [id, count] : ends) {
                if (count != 1) wrong.push_back(fmt::format("event {} ended {} times", id, count));
                if (!seen.accepted.contains(id))
                    wrong.push_back(fmt::format("event {} ended but was never accepted", id));
            }
            expect(
                ends.size() == seen.accepted.size(),
                fmt::format("{} of {} accepted events ended", ends.size(), seen.accepted.size()));
        };
    };
    const sa::parallel parallel{.workers = {1, 6}};
    const auto by_producer = sa::per_key([](const sent_payload& p) { return p.producer; },
                                         {.workers = {1, 4}, .backlog = 8, .backlog_per_key = 2});
    switch (s.consumer) {
    case consumer_kind::serial: adopt(builder.receiver(sa::serial{}, sync).start_queue()); break;
    case consumer_kind::parallel_coroutine:
        adopt(builder.receiver(parallel, coroutine).start_queue());
        break;
    case consumer_kind::per_key: adopt(builder.receiver(by_producer, sync).start_queue()); break;
    case consumer_kind::batched:
        adopt(builder.receiver(sa::batched{.batch_size = 8}, sync).start_queue());
        break;
    }

    std::atomic<std::uint64_t> accepted{0};
    std::vector<std::thread> producers;
    for (std::uint64_t p = 0; p < s.producers; ++p) {
        producers.emplace_back([&, p] {
            stress_support::random_source r(stress_support::mix(s.seed + p));
            for (std::uint64_t i = 0; i < s.events_per_producer; ++i) {
                const sent_payload value{p, i};
                std::optional<sa::uuid> id;
                sweet_async::error_code refused;
                const bool async =
                    s.form == send_form::async_send || (s.form == send_form::mixed && r.chance(50));
                if (!async) {
                    sa::uuid made;
                    refused = sender->try_send(value, made);
                    if (!refused) id = made;
                }
                // Under wait, a full channel makes try_send refuse: wait for room instead.
                const bool retry_waiting = !async && refused == sa::async_task_error::full &&
                                           s.policy == sa::overflow_policy::wait;
                if (async || retry_waiting) {
                    try {
                        id = sender->async_send(value, asio::use_future).get();
                        refused = {};
                    } catch (const sweet_async::system_error& e) {
                        refused = e.code();
                    }
                }
                if (refused) {
                    if (refused == sa::async_task_error::closed) return;  // the cancel closed it
                    std::lock_guard lock(seen.mutex);
                    if (refused != sa::async_task_error::full ||
                        s.policy != sa::overflow_policy::reject) {
                        seen.wrong.push_back(fmt::format("a send under {} was refused: {}",
                                                         s.policy, refused.message()));
                    }
                    continue;
                }
                {
                    std::lock_guard lock(seen.mutex);
                    seen.accepted.emplace(*id, value);
                }
                if (s.cancel && accepted.fetch_add(1) == s.cancel_after) cancel(*s.cancel);
            }
        });
    }
    for (auto& t : producers)
        t.join();
    sender->close();
    std::vector<std::string> wrong;
    finish(wrong);
    wrong.insert(wrong.end(), seen.wrong.begin(), seen.wrong.end());
    if (s.consumer == consumer_kind::serial || s.consumer == consumer_kind::per_key) {
        for (const auto& [producer, indices] : seen.order) {
            if (!std::is_sorted(indices.begin(), indices.end())) {
                wrong.push_back(fmt::format("producer {}'s events were processed out of order: {}",
                                            producer, fmt::join(indices, ", ")));
            }
        }
    }
    if (!s.cancel && s.policy == sa::overflow_policy::wait) {
        // Nothing may be lost or refused when nothing cancels and the policy waits.
        if (seen.accepted.size() != total)
            wrong.push_back(fmt::format("{} of {} sends accepted", seen.accepted.size(), total));
    }
    return wrong;
}

}  // namespace

TEST_CASE("stress: randomized overflow policies under producer threads account for every "
          "accepted event, dropped ones included",
          "[stress][overflow]") {
    const std::string test_name = Catch::getResultCapture().getCurrentTestName();
    stress_support::for_each_seed(
        test_name, 0x0F, test_support::sanitized ? 16 : 48, [&](std::uint64_t seed) {
            const overflow_scenario s = make_overflow_scenario(seed);
            INFO(describe(s));
            INFO(
                fmt::format("replay: SWEET_ASYNC_STRESS_SCENARIO={:#018x} sweet_async_tests \"{}\"",
                            seed, test_name));
            stress_support::watchdog guard(describe(s), std::chrono::seconds(120));
            const auto wrong = run_overflow(s);
            INFO(fmt::format("{}", fmt::join(wrong, "\n")));
            CHECK(wrong.empty());
        });
}
