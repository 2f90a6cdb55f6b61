// Randomized flows of 2 to 4 linked stages: whatever each stage's strategy, processor, capacity
// and failures, the producer threads, and which stage is cancelled when, every event that
// entered the flow ends in exactly one place: a result of the last stage, or an error or a
// result not forwarded in some stage. Seeds and replay as in test_stress.cpp.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
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

namespace {

enum class stage_strategy { serial, parallel, batched };

struct stage_plan {
    stage_strategy strategy = stage_strategy::serial;
    bool coroutine = false;  // per-event processors only
    std::size_t capacity = 1;
    std::size_t width = 1;  // workers, or the batch size
    unsigned fail_percent = 0;
    bool dead_letters = false;
    bool failures_as = false;  // hands its failures on to the next stage (not the last stage)
};

struct flow_scenario {
    std::uint64_t seed = 0;
    std::vector<stage_plan> stages;
    std::uint64_t events = 0;
    std::size_t producers = 1;
    std::optional<std::size_t> cancelled_stage;  // stages.size(): the whole flow (sa::flow)
    sa::cancellation_level level = sa::cancellation_level::immediate;
    std::uint64_t cancel_after = 0;  // events accepted by the first stage
};

flow_scenario make_flow_scenario(std::uint64_t seed) {
    stress_support::random_source r(seed);
    flow_scenario s;
    s.seed = seed;
    const auto stages = r.between(2, 4);
    for (std::uint64_t i = 0; i < stages; ++i) {
        stage_plan p;
        p.strategy =
            r.pick({stage_strategy::serial, stage_strategy::parallel, stage_strategy::batched});
        p.coroutine = p.strategy != stage_strategy::batched && r.chance(50);
        p.capacity = r.between(1, 8);
        p.width = r.between(1, 6);
        p.fail_percent = r.pick({0u, 0u, 3u, 20u});
        p.dead_letters = r.chance(50);
        p.failures_as = i + 1 < stages && r.chance(30);
        s.stages.push_back(p);
    }
    s.events = r.between(100, test_support::sanitized ? 600 : 2500);
    s.producers = r.between(1, 3);
    if (r.chance(40)) {
        s.cancelled_stage = r.chance(25) ? stages : r.below(stages);
        s.level =
            r.chance(70) ? sa::cancellation_level::immediate : sa::cancellation_level::graceful;
        s.cancel_after = r.below(s.events);
    }
    return s;
}

std::string describe(const flow_scenario& s) {
    std::string text = fmt::format("flow scenario {:#018x}: {} events, {} producer thread(s)",
                                   s.seed, s.events, s.producers);
    for (std::size_t i = 0; i < s.stages.size(); ++i) {
        const auto& p = s.stages[i];
        constexpr const char* names[] = {"serial", "parallel", "batched"};
        text +=
            fmt::format("; stage {}: {}({}) {} capacity {} fails {}%{}{}", i,
                        names[static_cast<int>(p.strategy)], p.width,
                        p.coroutine ? "coroutine" : "sync", p.capacity, p.fail_percent,
                        p.dead_letters ? " dead-letters" : "", p.failures_as ? " failures-as" : "");
    }
    if (s.cancelled_stage == s.stages.size()) {
        text += fmt::format("; cancel({}) the flow after {} events", s.level, s.cancel_after);
    } else if (s.cancelled_stage) {
        text += fmt::format("; cancel({}) stage {} after {} events", s.level, *s.cancelled_stage,
                            s.cancel_after);
    }
    return text;
}

/// Whether stage `stage` fails `payload` (a pure function: a retry fails too).
bool fails(std::uint64_t payload, std::size_t stage, unsigned percent) {
    return percent != 0 && stress_support::mix(payload * 8 + stage) % 100 < percent;
}

/// What `failures_as` makes of a failed payload: the payload, marked.
constexpr std::uint64_t recovered_mark = std::uint64_t{1} << 62;

/// What one finished stage reports, whatever its type.
struct stage_summary {
    sa::stage_report report;
    std::vector<std::uint64_t> results;  // the last stage's
};

struct stage_handle {
    sa::sender<std::uint64_t> sender;
    std::function<void(sa::cancellation_level)> cancel;
    std::function<stage_summary()> wait;  // from a plain thread
};

template <class Collection>
stage_summary summarize(const sa::final_result<std::uint64_t, Collection>& r) {
    stage_summary out{sa::stage_report::of(r), {}};
    if constexpr (!std::is_same_v<Collection, sa::link_report>) {
        for (const auto& entry : r.collection())
            out.results.push_back(entry.value);
    }
    return out;
}

/// Builds stage `index` of `plan` on `pool`, forwarding to `next` if there is one.
stage_handle build_stage(asio::thread_pool& pool, const stage_plan& plan, std::size_t index,
                         const std::optional<sa::sender<std::uint64_t>>& next,
                         std::mutex& letters_mutex, std::vector<std::uint64_t>& letters) {
    auto builder = sa::emitting_builder<std::uint64_t>(pool)
                       .name(fmt::format("stage-{}", index))
                       .capacity(plan.capacity)
                       .retry(plan.fail_percent != 0 ? 1 : 0);
    if (plan.dead_letters) {
        builder = builder.dead_letter([&](sa::dead_letter<std::uint64_t>&& letter) {
            std::lock_guard lock(letters_mutex);
            letters.push_back(letter.payload.value_or(~std::uint64_t{0}));
        });
    }
    const unsigned percent = plan.fail_percent;
    auto sync = [index, percent](std::uint64_t v) -> std::uint64_t {
        if (fails(v, index, percent)) throw std::runtime_error("planned failure");
        return v;
    };
    auto coroutine = [index, percent](std::uint64_t v) -> asio::awaitable<std::uint64_t> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        if (fails(v, index, percent)) throw std::runtime_error("planned failure");
        co_return v;
    };
    auto batch = [index, percent](std::span<const std::uint64_t> values) {
        for (const auto v : values)
            if (fails(v, index, percent)) throw std::runtime_error("planned failure");
        return std::vector<std::uint64_t>(values.begin(), values.end());
    };
    auto finish = [&](auto with_strategy) -> stage_handle {
        auto start = [&](auto receiver_builder) -> stage_handle {
            auto linked = [&](auto collector) -> stage_handle {
                auto task = receiver_builder.collector(collector).start_queue();
                return {task.get_sender(), [task](auto level) mutable { task.cancel(level); },
                        [task]() mutable {
                            return summarize(task.async_wait(asio::use_future).get());
                        }};
            };
            if (next && plan.failures_as) {
                return linked(
                    sa::forward_to(*next).failures_as([](sa::dead_letter<std::uint64_t>&& letter) {
                        return letter.payload.value_or(0) | recovered_mark;
                    }));
            }
            if (next) return linked(sa::forward_to(*next));
            auto task = receiver_builder.start_queue();
            return {
                task.get_sender(), [task](auto level) mutable { task.cancel(level); },
                [task]() mutable { return summarize(task.async_wait(asio::use_future).get()); }};
        };
        return with_strategy(start);
    };
    switch (plan.strategy) {
    case stage_strategy::serial:
        return finish([&](auto start) {
            return plan.coroutine ? start(builder.receiver(sa::serial{}, coroutine))
                                  : start(builder.receiver(sa::serial{}, sync));
        });
    case stage_strategy::parallel: {
        const sa::parallel strategy{.workers = sa::min_max{plan.width, plan.width}};
        return finish([&](auto start) {
            return plan.coroutine ? start(builder.receiver(strategy, coroutine))
                                  : start(builder.receiver(strategy, sync));
        });
    }
    case stage_strategy::batched:
        return finish([&](auto start) {
            return start(builder.receiver(sa::batched{.batch_size = plan.width}, batch));
        });
    }
    throw std::logic_error("unknown stage strategy");
}

/// Runs `s` and returns what went wrong (empty when nothing did).
std::vector<std::string> run_flow(const flow_scenario& s) {
    std::mutex letters_mutex;  // the dead-letter sinks outlive the tasks' threads
    std::vector<std::uint64_t> letters;
    asio::thread_pool pool(2);
    // Built from the last: each stage forwards to the one built before it.
    std::vector<stage_handle> stages;
    for (std::size_t i = s.stages.size(); i-- > 0;) {
        std::optional<sa::sender<std::uint64_t>> next;
        if (!stages.empty()) next = stages.back().sender;
        stages.push_back(build_stage(pool, s.stages[i], i, next, letters_mutex, letters));
    }
    std::reverse(stages.begin(), stages.end());
    std::vector<sa::sender<std::uint64_t>> senders;
    for (const auto& stage : stages)
        senders.push_back(stage.sender);
    const sa::flow flow_handle(senders);
    auto cancel = [&](std::size_t which) {
        if (which == stages.size()) {
            flow_handle.cancel(s.level);
        } else {
            stages[which].cancel(s.level);
        }
    };

    std::atomic<std::uint64_t> accepted{0};
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < s.producers; ++p) {
        producers.emplace_back([&, p] {
            for (std::uint64_t v = p; v < s.events; v += s.producers) {
                try {
                    stages[0].sender.async_send(v, asio::use_future).get();
                } catch (const sweet_async::system_error&) {
                    break;  // closed: the first stage was cancelled
                }
                const auto now = accepted.fetch_add(1) + 1;
                if (s.cancelled_stage && now == s.cancel_after + 1) cancel(*s.cancelled_stage);
            }
        });
    }
    for (auto& t : producers)
        t.join();
    stages[0].sender.close();

    std::vector<stage_summary> done;
    for (auto& stage : stages)
        done.push_back(stage.wait());

    std::vector<std::string> wrong;
    auto expect = [&](bool ok, std::string what) {
        if (!ok) wrong.push_back(std::move(what));
    };
    std::uint64_t ended_here = 0;  // over all stages: errors and results not forwarded
    std::vector<sa::stage_report> reports;
    for (std::size_t i = 0; i < done.size(); ++i) {
        const auto& report = done[i].report;
        const auto& st = report.stats;
        reports.push_back(report);
        expect(st.balanced(), fmt::format("stage {} unbalanced: {}", i, st));
        expect(report.status != sa::task_status::running, fmt::format("stage {} still running", i));
        ended_here += st.failed + st.timed_out + st.cancelled - report.failures_handed_on();
        if (s.stages[i].dead_letters) {
            expect(st.dead_lettered == st.failed + st.timed_out,
                   fmt::format("stage {}: {} dead letters for {} failed and timed out", i,
                               st.dead_lettered, st.failed + st.timed_out));
        }
        if (report.links) {
            const auto& link = *report.links;
            expect(link.forwarded() + link.not_forwarded() ==
                       st.processed + link.failures_handed_on(),
                   fmt::format("stage {}: forwarded {} + not {} != processed {} + failures {}", i,
                               link.forwarded(), link.not_forwarded(), st.processed,
                               link.failures_handed_on()));
            expect(s.stages[i].failures_as || link.failures_handed_on() == 0,
                   fmt::format("stage {} handed failures on without failures_as", i));
            expect(done[i + 1].report.stats.sent == link.forwarded(),
                   fmt::format("stage {} received {} of the {} stage {} forwarded", i + 1,
                               done[i + 1].report.stats.sent, link.forwarded(), i));
            ended_here += link.not_forwarded();
        }
    }
    const auto& first = done.front().report.stats;
    const auto& last = done.back();
    expect(first.sent == accepted.load(),
           fmt::format("stage 0 counted {} sent, producers had {} accepted", first.sent,
                       accepted.load()));
    expect(ended_here + last.report.stats.processed == first.sent,
           fmt::format("flow accounting: {} ended in stages + {} results != {} entered", ended_here,
                       last.report.stats.processed, first.sent));
    const sa::flow_report flow(reports);
    expect(flow.balanced() && flow.entered() == first.sent &&
               flow.results() == last.report.stats.processed &&
               flow.ended() - flow.results() == ended_here && flow.left() == 0,
           fmt::format("flow report disagrees: {}", flow));
    if (s.cancelled_stage == s.stages.size() && s.level == sa::cancellation_level::graceful) {
        // A graceful stop of the flow closes its entry only: what entered goes all the way.
        expect(flow.cancelled() == 0 && flow.not_forwarded() == 0,
               fmt::format("a graceful cancel of the flow lost events: {}", flow));
    }
    // Results are the payloads that entered, each at most once.
    std::vector<std::uint64_t> results = last.results;
    std::sort(results.begin(), results.end());
    expect(std::adjacent_find(results.begin(), results.end()) == results.end(),
           "a payload reached the last stage twice");
    // A recovered failure may fail again later and be recovered again: same value, once.
    for (const auto v : results) {
        expect((v & ~recovered_mark) < s.events,
               fmt::format("a result that was never sent: {}", v));
    }
    if (!s.cancelled_stage) {
        expect(first.sent == s.events, "events refused without a cancel");
        // Without cancellation every payload is a result or a planned failure.
        for (std::uint64_t v = 0; v < s.events; ++v) {
            std::size_t failing_stage = s.stages.size();
            for (std::size_t i = 0; i < s.stages.size() && failing_stage == s.stages.size(); ++i) {
                if (fails(v, i, s.stages[i].fail_percent)) failing_stage = i;
            }
            const bool is_result = std::binary_search(results.begin(), results.end(), v);
            // A failing event of a batch fails the batch: others may fail with it, so only
            // "a planned failure is never a result" holds for every strategy.
            if (failing_stage != s.stages.size()) {
                expect(!is_result, fmt::format("payload {} failed in stage {} but is a result", v,
                                               failing_stage));
            }
        }
        expect(last.report.status == sa::task_status::completed, "the last stage did not complete");
    }
    return wrong;
}

}  // namespace

TEST_CASE("stress: randomized flows of 2 to 4 stages account for every event that entered",
          "[stress][flow]") {
    const std::string test_name = Catch::getResultCapture().getCurrentTestName();
    stress_support::for_each_seed(
        test_name, 0x0f, test_support::sanitized ? 12 : 40, [&](std::uint64_t seed) {
            const flow_scenario s = make_flow_scenario(seed);
            INFO(describe(s));
            INFO(
                fmt::format("replay: SWEET_ASYNC_STRESS_SCENARIO={:#018x} sweet_async_tests \"{}\"",
                            seed, test_name));
            stress_support::watchdog guard(describe(s), std::chrono::seconds(120));
            const auto wrong = run_flow(s);
            INFO(fmt::format("{}", fmt::join(wrong, "\n")));
            CHECK(wrong.empty());
        });
}
