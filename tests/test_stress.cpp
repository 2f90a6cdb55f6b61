// Randomized stress tests of "nothing lost": whatever the strategy, the
// executor, the producers, the faults and the moment of cancellation, every
// event a task accepted ends with exactly one outcome, and that outcome is the
// one the scenario implies.
//
// Each randomized test case derives its scenarios from a base seed, printed on
// stdout; a failing scenario also names its own seed. To replay:
//   SWEET_ASYNC_STRESS_SEED=0x...      the same scenarios as a whole run
//   SWEET_ASYNC_STRESS_SCENARIO=0x...  only that scenario (in each randomized test case)
//   SWEET_ASYNC_STRESS_SCENARIOS=n     n scenarios per randomized test case (longer soaks)
// A replay repeats the scenario, not the thread schedule.

#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <future>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
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

/// True once cancel(immediate) and the whole-task timeout interrupt a
/// coroutine processor that is in flight (its awaited operation is aborted and
/// the event ends cancelled). Scenarios where only that can end a hanging
/// processor are run without their hangs while this is false, instead of
/// hanging the suite.
constexpr bool interrupts_in_flight = true;

using stress_support::mix;
using stress_support::random_source;
using stress_support::watchdog;
using test_support::sanitized;

// ----- scenarios -----------------------------------------------------------------------------

enum class strategy_kind { serial, parallel, batched, adaptive };
enum class processor_shape { sync, coroutine, sync_batch, coroutine_batch };
enum class producer_style { co_send, co_try_send, thread_try_send, thread_async_send };
enum class cancel_point { none, before_first, after_k, after_wait };
enum class deadline_kind { none, distant, ends_hang };
enum class stream_end { close, final_event };

/// Which dimension a test case stresses harder than the others.
enum class focus { any, cancellation, producers, hangs };

constexpr std::string_view name_of(processor_shape shape) {
    switch (shape) {
    case processor_shape::sync: return "sync";
    case processor_shape::coroutine: return "coroutine";
    case processor_shape::sync_batch: return "sync per-batch";
    case processor_shape::coroutine_batch: return "coroutine per-batch";
    }
    return "?";
}

constexpr std::string_view name_of(producer_style style) {
    switch (style) {
    case producer_style::co_send: return "co_await send";
    case producer_style::co_try_send: return "coroutine try_send";
    case producer_style::thread_try_send: return "thread try_send";
    case producer_style::thread_async_send: return "thread async_send";
    }
    return "?";
}

constexpr bool on_thread(producer_style style) {
    return style == producer_style::thread_try_send || style == producer_style::thread_async_send;
}

constexpr bool is_coroutine(processor_shape shape) {
    return shape == processor_shape::coroutine || shape == processor_shape::coroutine_batch;
}

constexpr bool per_event(processor_shape shape) {
    return shape == processor_shape::sync || shape == processor_shape::coroutine;
}

/// What the processor does with one payload; fixed by the scenario, so the
/// expected outcome of every payload is known in advance.
struct behaviour {
    /// Attempts that throw before one succeeds (`always_fails`: every one).
    std::uint8_t failures = 0;
    /// Awaits a timer of an hour: only a timeout or an interruption ends it.
    bool hang = false;
    /// Awaits a short timer first (coroutine processors), so that events
    /// overtake each other.
    bool pause = false;
    std::uint16_t pause_us = 0;
};

constexpr std::uint8_t always_fails = 255;

struct scenario {
    std::uint64_t seed = 0;
    strategy_kind strategy = strategy_kind::serial;
    processor_shape shape = processor_shape::sync;
    sa::min_max<std::size_t> workers{1, 1};
    bool ordered = false;
    std::size_t batch_size = 1;
    std::chrono::microseconds window{1000};
    std::size_t sample_size = 1;
    sa::min_max<std::size_t> adaptive_batches{1, 1};
    std::size_t recheck_every = 1;
    std::optional<std::chrono::milliseconds> event_timeout;
    std::size_t capacity = 1;
    std::size_t pool_threads = 0;  // 0: one io_context run by one thread
    std::vector<producer_style> producers;
    std::uint64_t events = 0;  // continuing events, payloads 0..events-1; a final event is `events`
    stream_end end = stream_end::close;
    unsigned retry = 0;
    unsigned failure_percent = 0;
    std::vector<behaviour> plan;  // indexed by payload, events + 1 entries
    std::vector<std::uint64_t> hangs;
    cancel_point cancel = cancel_point::none;
    sa::cancellation_level level = sa::cancellation_level::graceful;
    std::uint64_t cancel_after = 0;  // after_k: the accepted send that triggers the cancel
    deadline_kind deadline = deadline_kind::none;
    std::chrono::milliseconds deadline_after{0};
    std::string note;
};

/// A task stopped so that queued events end cancelled rather than processed.
bool stops_immediately(const scenario& s) {
    const bool cancels =
        s.cancel == cancel_point::before_first || s.cancel == cancel_point::after_k;
    return (cancels && s.level == sa::cancellation_level::immediate) ||
           s.deadline == deadline_kind::ends_hang;
}

/// Sends may be refused (closed) only in scenarios that stop the task early.
bool sends_may_be_refused(const scenario& s) {
    return s.cancel == cancel_point::before_first || s.cancel == cancel_point::after_k ||
           s.deadline == deadline_kind::ends_hang;
}

sa::task_status expected_status(const scenario& s) {
    if (s.cancel == cancel_point::before_first || s.cancel == cancel_point::after_k)
        return sa::task_status::cancelled;
    // A hang holds the task until its deadline: it cannot complete earlier.
    if (s.deadline == deadline_kind::ends_hang) return sa::task_status::timed_out;
    return sa::task_status::completed;
}

sa::any_strategy make_strategy(const scenario& s) {
    std::optional<std::chrono::nanoseconds> timeout;
    if (s.event_timeout) timeout = *s.event_timeout;
    switch (s.strategy) {
    case strategy_kind::serial: return sa::serial{.timeout = timeout};
    case strategy_kind::parallel:
        return sa::parallel{.workers = s.workers, .ordered = s.ordered, .timeout = timeout};
    case strategy_kind::batched:
        return sa::batched{.batch_size = s.batch_size, .window = s.window, .timeout = timeout};
    case strategy_kind::adaptive: break;
    }
    sa::adaptive adaptive;
    adaptive.sample_size = s.sample_size;
    adaptive.workers = s.workers;
    adaptive.batch_sizes = s.adaptive_batches;
    adaptive.batch_window = s.window;
    adaptive.recheck_every = s.recheck_every;
    adaptive.timeout = timeout;
    return adaptive;
}

std::string describe(const scenario& s) {
    std::vector<std::string_view> producers;
    for (auto style : s.producers)
        producers.push_back(name_of(style));
    std::string cancel = "none";
    const auto level = s.level == sa::cancellation_level::graceful ? "graceful" : "immediate";
    switch (s.cancel) {
    case cancel_point::none: break;
    case cancel_point::before_first: cancel = fmt::format("{} before the first send", level); break;
    case cancel_point::after_k:
        cancel = fmt::format("{} after {} accepted sends", level, s.cancel_after);
        break;
    case cancel_point::after_wait: cancel = fmt::format("{} after wait() returned", level); break;
    }
    std::string deadline = "none";
    if (s.deadline == deadline_kind::distant) deadline = "1h";
    if (s.deadline == deadline_kind::ends_hang)
        deadline = fmt::format("{}ms", s.deadline_after.count());
    return fmt::format("scenario {:#018x}: strategy={} processor={} capacity={} executor={} "
                       "producers=[{}] events={} end={} retry={} failures={}% hangs=[{}] "
                       "cancel={} task timeout={}{}{}",
                       s.seed, make_strategy(s), name_of(s.shape), s.capacity,
                       s.pool_threads == 0 ? std::string("io_context")
                                           : fmt::format("thread_pool({})", s.pool_threads),
                       fmt::join(producers, ", "), s.events,
                       s.end == stream_end::close ? "close" : "final event", s.retry,
                       s.failure_percent, fmt::join(s.hangs, ", "), cancel, deadline,
                       s.note.empty() ? "" : "; ", s.note);
}

scenario make_scenario(std::uint64_t seed, focus f) {
    random_source r(seed);
    scenario s;
    s.seed = seed;
    s.strategy = static_cast<strategy_kind>(r.below(4));
    s.shape = r.pick({processor_shape::sync, processor_shape::sync, processor_shape::coroutine,
                      processor_shape::coroutine, processor_shape::sync_batch,
                      processor_shape::coroutine_batch});
    s.workers.min = r.between(1, 3);
    s.workers.max = s.workers.min + r.below(6);
    s.ordered = r.chance(50);
    s.batch_size = r.chance(30) ? r.between(1, 4) : r.between(1, 64);
    s.window = std::chrono::microseconds(r.between(100, 5000));
    s.sample_size = r.between(1, 64);
    s.adaptive_batches.min = r.between(1, 4);
    s.adaptive_batches.max = s.adaptive_batches.min + r.below(32);
    s.recheck_every = r.between(1, 4);
    bool event_timeout = r.chance(40);  // its length depends on the hangs, chosen below
    s.capacity = r.chance(40) ? r.between(1, 8) : r.between(1, 256);
    s.pool_threads = r.chance(20) ? 0 : r.between(1, 4);
    s.producers.resize(r.between(1, 4));
    for (auto& style : s.producers)
        style = static_cast<producer_style>(r.below(4));
    const std::uint64_t most_events = sanitized ? 600 : 2000;
    const auto size_class = r.below(100);
    s.events = size_class < 15   ? r.between(0, 8)
               : size_class < 80 ? r.between(9, 400)
                                 : r.between(401, most_events);
    s.end = r.chance(50) ? stream_end::final_event : stream_end::close;
    s.retry = static_cast<unsigned>(r.below(3));
    s.failure_percent = r.pick({0u, 0u, 3u, 15u, 50u});
    const auto cancel_roll = r.below(100);
    s.cancel = cancel_roll < 40   ? cancel_point::none
               : cancel_roll < 50 ? cancel_point::after_wait
               : cancel_roll < 60 ? cancel_point::before_first
                                  : cancel_point::after_k;
    s.level = r.chance(50) ? sa::cancellation_level::graceful : sa::cancellation_level::immediate;
    s.cancel_after = r.between(1, std::max<std::uint64_t>(s.events, 1));
    s.deadline = r.chance(25) ? deadline_kind::distant : deadline_kind::none;
    std::uint64_t hang_count = is_coroutine(s.shape) && r.chance(30) ? r.between(1, 2) : 0;

    switch (f) {
    case focus::any: break;
    case focus::cancellation: {
        const auto roll = r.below(100);
        s.cancel = roll < 15   ? cancel_point::before_first
                   : roll < 30 ? cancel_point::after_wait
                               : cancel_point::after_k;
        // The edges: the first send, a full channel, one past it, the last send.
        s.cancel_after =
            r.pick<std::uint64_t>({1, 2, s.capacity, s.capacity + 1, s.events / 2, s.events,
                                   r.between(1, std::max<std::uint64_t>(s.events, 1))});
        s.cancel_after =
            std::clamp<std::uint64_t>(s.cancel_after, 1, std::max<std::uint64_t>(s.events, 1));
        break;
    }
    case focus::producers:
        s.producers.resize(r.between(3, 4));
        for (auto& style : s.producers)
            style = static_cast<producer_style>(r.below(4));
        s.pool_threads = r.chance(20) ? 0 : r.between(2, 4);
        s.events = r.between(300, sanitized ? 800 : 3000);
        s.capacity = r.chance(50) ? r.between(1, 4) : r.between(5, 64);
        s.cancel_after = r.between(1, s.events);
        break;
    case focus::hangs: {
        s.shape = r.chance(70) ? processor_shape::coroutine : processor_shape::coroutine_batch;
        s.end = r.chance(50) ? stream_end::final_event : stream_end::close;
        if (s.events == 0) s.events = r.between(1, 50);
        s.cancel_after = r.between(1, s.events);
        hang_count = r.between(1, 3);
        // Each way a hang can end: the per-event timeout, cancel(immediate), the task's deadline.
        event_timeout = false;
        switch (r.below(3)) {
        case 0: event_timeout = true; break;
        case 1:
            s.cancel = cancel_point::after_k;
            s.level = sa::cancellation_level::immediate;
            break;
        default: s.cancel = r.chance(70) ? cancel_point::none : cancel_point::after_wait; break;
        }
        break;
    }
    }
    if (s.cancel == cancel_point::after_k && s.events == 0) s.cancel = cancel_point::before_first;

    const std::uint64_t payloads = s.events + 1;
    s.plan.assign(payloads, behaviour{});
    for (auto& b : s.plan) {
        if (r.chance(s.failure_percent))
            b.failures = r.pick<std::uint8_t>({1, 1, 2, 3, always_fails});
    }
    if (is_coroutine(s.shape)) {
        const unsigned pause_percent = r.pick({0u, 10u, 50u});
        for (auto& b : s.plan) {
            if (r.chance(pause_percent)) {
                b.pause = true;
                b.pause_us = static_cast<std::uint16_t>(r.below(300));
            }
        }
    }
    // Only payloads that will be sent may hang: a hang that is never sent
    // cannot hold the task until its deadline.
    const std::uint64_t candidates = s.events + (s.end == stream_end::final_event ? 1 : 0);
    for (std::uint64_t i = 0; i < hang_count && candidates > 0; ++i) {
        const std::uint64_t p = r.below(candidates);
        if (s.plan[p].hang) continue;
        s.plan[p] = behaviour{.hang = true};
        s.hangs.push_back(p);
    }
    std::sort(s.hangs.begin(), s.hangs.end());

    // Something must end each hang, so that the outcome does not depend on timing.
    bool needs_interrupt = false;
    if (!s.hangs.empty() && !event_timeout && s.cancel != cancel_point::before_first) {
        if (s.cancel == cancel_point::after_k && s.level == sa::cancellation_level::immediate) {
            // At least `capacity` sends are accepted even if the consumer
            // hangs at once, so the cancel is sure to come.
            s.cancel_after = std::min<std::uint64_t>(s.cancel_after, s.capacity);
            needs_interrupt = true;
        } else if (s.cancel == cancel_point::after_k) {
            event_timeout = true;  // a graceful cancel lets a hang run on
        } else {
            s.deadline = deadline_kind::ends_hang;
            s.deadline_after = std::chrono::milliseconds(r.between(40, 100));
            needs_interrupt = true;
        }
    }
    if (needs_interrupt && !interrupts_in_flight) {
        for (auto p : s.hangs)
            s.plan[p] = behaviour{};
        s.hangs.clear();
        if (s.deadline == deadline_kind::ends_hang) s.deadline = deadline_kind::none;
        s.note = "hangs dropped: interrupts_in_flight is false";
    }
    // With hangs, the timeout is tens of milliseconds: hundreds of times the
    // longest pause, so a hang always times out and nothing else does.
    // Without hangs, the timeout path runs with a timeout nothing reaches.
    if (event_timeout) {
        s.event_timeout = s.hangs.empty() ? std::chrono::milliseconds(10'000)
                                          : std::chrono::milliseconds(r.between(50, 90));
    }
    return s;
}

// ----- the processors ------------------------------------------------------------------------

/// What a processed event yields: enough to tell which payload and event it
/// came from (per-batch processors do not see the event).
struct echo {
    std::uint64_t payload = 0;
    std::uint64_t value = 0;
    std::optional<std::uint64_t> sequence;
    sa::uuid event_id{};
};

std::uint64_t value_of(std::uint64_t payload) {
    return payload * 0x9E3779B97F4A7C15ULL + 1;
}

std::string failure_message(std::uint64_t payload, unsigned attempt) {
    return fmt::format("injected failure: payload {} attempt {}", payload, attempt);
}

struct parsed_failure {
    std::uint64_t payload = 0;
    unsigned attempt = 0;
};

std::optional<parsed_failure> parse_failure(std::string_view message) {
    constexpr std::string_view head = "injected failure: payload ";
    constexpr std::string_view middle = " attempt ";
    if (!message.starts_with(head)) return std::nullopt;
    message.remove_prefix(head.size());
    parsed_failure parsed;
    auto [rest, ec] =
        std::from_chars(message.data(), message.data() + message.size(), parsed.payload);
    if (ec != std::errc{}) return std::nullopt;
    message.remove_prefix(static_cast<std::size_t>(rest - message.data()));
    if (!message.starts_with(middle)) return std::nullopt;
    message.remove_prefix(middle.size());
    auto [end, ec2] =
        std::from_chars(message.data(), message.data() + message.size(), parsed.attempt);
    if (ec2 != std::errc{} || end != message.data() + message.size()) return std::nullopt;
    return parsed;
}

/// What one scenario run observed, shared by the processors (any thread), the
/// producers (each writes only its own payloads) and the checks (after the end).
struct probe {
    explicit probe(const scenario& s)
        : plan(s.plan),
          calls(std::make_unique<std::atomic<unsigned>[]>(s.plan.size())),
          first_call_ids(s.plan.size()),
          accepted(s.plan.size(), 0) {}

    /// Counts a call for `payload` and returns its attempt number.
    unsigned call(std::uint64_t payload, const sa::uuid* event_id = nullptr) {
        const unsigned attempt = calls[payload].fetch_add(1, std::memory_order_relaxed) + 1;
        if (attempt == 1 && event_id != nullptr) first_call_ids[payload] = *event_id;
        return attempt;
    }

    void problem(std::string what) {
        std::lock_guard lock(mutex);
        problems.push_back(std::move(what));
    }

    const std::vector<behaviour> plan;
    std::unique_ptr<std::atomic<unsigned>[]> calls;
    std::vector<sa::uuid> first_call_ids;  // per-event processors only
    std::vector<std::uint8_t> accepted;
    std::atomic<std::uint64_t> accepted_count{0};
    std::mutex mutex;
    std::vector<std::string> problems;  // seen off the main thread, where Catch cannot check
};

echo process_sync(probe& shared, std::uint64_t payload, sa::uuid id, std::uint64_t sequence) {
    const unsigned attempt = shared.call(payload, &id);
    if (attempt <= shared.plan[payload].failures)
        throw std::runtime_error(failure_message(payload, attempt));
    return echo{payload, value_of(payload), sequence, id};
}

asio::awaitable<void> hang_or_pause(behaviour b) {
    if (b.hang) {
        asio::steady_timer never(co_await asio::this_coro::executor, 1h);
        co_await never.async_wait(asio::use_awaitable);
        throw std::logic_error("an hour-long hang ended by itself");
    }
    if (b.pause) {
        asio::steady_timer pause(co_await asio::this_coro::executor,
                                 std::chrono::microseconds(b.pause_us));
        co_await pause.async_wait(asio::use_awaitable);
    }
}

// Parameters by value: the frame must not refer to the event or the closure.
asio::awaitable<echo> process_async(std::shared_ptr<probe> shared, std::uint64_t payload,
                                    sa::uuid id, std::uint64_t sequence) {
    const unsigned attempt = shared->call(payload, &id);
    co_await hang_or_pause(shared->plan[payload]);
    if (attempt <= shared->plan[payload].failures)
        throw std::runtime_error(failure_message(payload, attempt));
    co_return echo{payload, value_of(payload), sequence, id};
}

/// A batch fails as a whole when any of its payloads fails this attempt; the
/// message names the first such payload.
std::vector<echo> process_batch_sync(probe& shared, std::span<const std::uint64_t> batch) {
    std::optional<std::string> failure;
    for (auto payload : batch) {
        const unsigned attempt = shared.call(payload);
        if (!failure && attempt <= shared.plan[payload].failures)
            failure = failure_message(payload, attempt);
    }
    if (failure) throw std::runtime_error(*failure);
    std::vector<echo> out;
    for (auto payload : batch)
        out.push_back(echo{payload, value_of(payload), std::nullopt, {}});
    return out;
}

asio::awaitable<std::vector<echo>> process_batch_async(std::shared_ptr<probe> shared,
                                                       std::vector<std::uint64_t> batch) {
    std::optional<std::string> failure;
    behaviour slowest;
    for (auto payload : batch) {
        const unsigned attempt = shared->call(payload);
        const behaviour& b = shared->plan[payload];
        if (!failure && attempt <= b.failures) failure = failure_message(payload, attempt);
        if (b.hang) slowest.hang = true;
        if (b.pause && b.pause_us >= slowest.pause_us) {
            slowest.pause = true;
            slowest.pause_us = b.pause_us;
        }
    }
    co_await hang_or_pause(slowest);
    if (failure) throw std::runtime_error(*failure);
    std::vector<echo> out;
    for (auto payload : batch)
        out.push_back(echo{payload, value_of(payload), std::nullopt, {}});
    co_return out;
}

// ----- running a scenario --------------------------------------------------------------------

/// Where a scenario's task runs: an asio::thread_pool, or an io_context run by
/// one thread of its own (so the test thread is free to block on producers).
class execution {
public:
    explicit execution(std::size_t pool_threads) {
        if (pool_threads > 0) {
            pool_.emplace(pool_threads);
            executor_ = pool_->get_executor();
        } else {
            io_.emplace();
            guard_.emplace(io_->get_executor());
            executor_ = io_->get_executor();
            runner_ = std::thread([this] { io_->run(); });
        }
    }
    execution(const execution&) = delete;
    execution& operator=(const execution&) = delete;
    ~execution() { join(); }

    const asio::any_io_executor& executor() const noexcept { return executor_; }

    /// Returns once no work is left: a task that leaves anything running
    /// behind (an uninterrupted hang) never lets it return.
    void join() {
        if (pool_) pool_->join();
        guard_.reset();
        if (runner_.joinable()) runner_.join();
    }

private:
    std::optional<asio::thread_pool> pool_;
    std::optional<asio::io_context> io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
    std::thread runner_;
    asio::any_io_executor executor_;
};

template <class Task>
struct producer_job {
    Task task;
    std::shared_ptr<probe> shared;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    producer_style style = producer_style::co_send;
    std::uint64_t cancel_after = 0;  // 0: this scenario does not cancel after k sends
    sa::cancellation_level level = sa::cancellation_level::graceful;
    bool may_be_refused = false;

    void accepted(std::uint64_t payload) {
        shared->accepted[payload] = 1;
        const auto count = shared->accepted_count.fetch_add(1, std::memory_order_relaxed) + 1;
        if (count == cancel_after) task.cancel(level);
    }

    void refused(sweet_async::error_code ec, std::uint64_t payload) {
        if (ec != sa::async_task_error::closed || !may_be_refused) {
            shared->problem(fmt::format("payload {} ({}): send failed with '{}' although {}",
                                        payload, name_of(style), ec.message(),
                                        may_be_refused ? "only closed may happen"
                                                       : "the task was never stopped early"));
        }
    }
};

asio::awaitable<void> back_off(asio::any_io_executor executor, unsigned spins) {
    if (spins < 8) {
        co_await asio::post(executor, asio::use_awaitable);
    } else {
        asio::steady_timer later(executor, 100us);
        co_await later.async_wait(asio::use_awaitable);
    }
}

template <class Task>
asio::awaitable<void> produce_in_coroutine(producer_job<Task> job) {
    const auto executor = co_await asio::this_coro::executor;
    for (auto payload = job.begin; payload < job.end; ++payload) {
        sweet_async::error_code ec;
        if (job.style == producer_style::co_send) {
            try {
                co_await job.task.send(payload);
            } catch (const sa::async_task_exception& e) {
                ec = e.code();
            }
        } else {
            for (unsigned spins = 0;; ++spins) {
                ec = job.task.try_send(payload);
                if (ec != sa::async_task_error::full) break;
                co_await back_off(executor, spins);
            }
        }
        if (ec) co_return job.refused(ec, payload);  // closed now means closed for good
        job.accepted(payload);
    }
}

template <class Task>
void produce_on_thread(producer_job<Task> job) {
    for (auto payload = job.begin; payload < job.end; ++payload) {
        sweet_async::error_code ec;
        if (job.style == producer_style::thread_async_send) {
            std::promise<sweet_async::error_code> sent;
            auto outcome = sent.get_future();
            job.task.async_send(
                payload, [&sent](sweet_async::error_code e, sa::uuid) { sent.set_value(e); });
            ec = outcome.get();
        } else {
            for (unsigned spins = 0;; ++spins) {
                ec = job.task.try_send(payload);
                if (ec != sa::async_task_error::full) break;
                if (spins < 8) {
                    std::this_thread::yield();
                } else {
                    std::this_thread::sleep_for(100us);
                }
            }
        }
        if (ec) return job.refused(ec, payload);
        job.accepted(payload);
    }
}

/// Collects what is wrong, capped so that one broken run stays readable.
class findings {
public:
    template <class... Args>
    void add(fmt::format_string<Args...> format, Args&&... args) {
        if (list_.size() < 30) list_.push_back(fmt::format(format, std::forward<Args>(args)...));
        ++total_;
    }
    bool empty() const noexcept { return total_ == 0; }
    std::string text() const {
        return fmt::format("{} violation(s):\n  {}{}", total_, fmt::join(list_, "\n  "),
                           total_ > list_.size() ? "\n  ..." : "");
    }

private:
    std::vector<std::string> list_;
    std::size_t total_ = 0;
};

/// The property: exact accounting, each accepted event exactly once, and each
/// outcome the one the scenario implies.
template <class Result>
void check_property(const scenario& s, const probe& shared, const Result& result, findings& found) {
    const auto& stats = result.stats();
    const std::uint64_t payloads = s.plan.size();
    const bool by_event = per_event(s.shape);
    const bool stopped_early = stops_immediately(s);
    const auto calls = [&](std::uint64_t p) { return shared.calls[p].load(); };
    const auto expected_outcome = [&](std::uint64_t p) {
        const behaviour& b = s.plan[p];
        if (b.hang) return s.event_timeout ? sa::outcome::timed_out : sa::outcome::cancelled;
        return b.failures > s.retry ? sa::outcome::failed : sa::outcome::processed;
    };

    // The counts.
    const std::uint64_t accepted = shared.accepted_count.load();
    if (stats.sent != accepted)
        found.add("stats.sent={} but {} sends were accepted", stats.sent, accepted);
    if (!stats.balanced()) found.add("stats not balanced: {}", stats);
    if (result.collection().size() != stats.processed)
        found.add("{} results collected, stats.processed={}", result.collection().size(),
                  stats.processed);
    std::size_t failed = 0, timed_out = 0, cancelled = 0;
    for (const auto& e : result.errors()) {
        failed += e.kind == sa::outcome::failed;
        timed_out += e.kind == sa::outcome::timed_out;
        cancelled += e.kind == sa::outcome::cancelled;
        if (e.kind == sa::outcome::processed) found.add("an error with kind processed: {}", e);
    }
    if (failed != stats.failed || timed_out != stats.timed_out || cancelled != stats.cancelled) {
        found.add("errors() holds {} failed, {} timed out, {} cancelled; stats: {}", failed,
                  timed_out, cancelled, stats);
    }
    if (result.status() != expected_status(s))
        found.add("status {}, expected {}", result.status(), expected_status(s));
    if (!stopped_early && stats.cancelled != 0)
        found.add("{} events cancelled although the task was never stopped immediately",
                  stats.cancelled);
    if (!s.event_timeout && stats.timed_out != 0)
        found.add("{} events timed out without a per-event timeout", stats.timed_out);

    // Each event id once, each arrival index once.
    std::unordered_set<sa::uuid> ids;
    for (const auto& entry : result.collection()) {
        if (!ids.insert(entry.key).second) found.add("event {} collected twice", entry.key);
    }
    for (const auto& e : result.errors()) {
        if (!ids.insert(e.event_id).second)
            found.add("event {} has a second outcome: {}", e.event_id, e);
    }
    if (ids.size() != stats.sent)
        found.add("{} distinct event ids for {} sent", ids.size(), stats.sent);
    std::vector<std::uint8_t> sequence_seen(stats.sent, 0);
    const auto see_sequence = [&](std::uint64_t sequence) {
        if (sequence >= stats.sent) {
            found.add("arrival index {} out of range ({} sent)", sequence, stats.sent);
        } else if (sequence_seen[sequence]++ != 0) {
            found.add("arrival index {} seen twice", sequence);
        }
    };

    // Each accepted payload once, with the outcome its behaviour implies.
    std::vector<std::optional<sa::outcome>> outcome_of(payloads);
    const auto see_payload = [&](std::uint64_t p, sa::outcome kind) {
        if (p >= payloads) return found.add("outcome for unknown payload {}", p);
        if (!shared.accepted[p]) found.add("payload {} has an outcome but was never accepted", p);
        if (outcome_of[p]) found.add("payload {} ended {} and {}", p, *outcome_of[p], kind);
        outcome_of[p] = kind;
        // A stop also cuts retries short: the last attempt made, a failure, stands.
        const auto expected = expected_outcome(p);
        const bool cut_short =
            stopped_early && (kind == sa::outcome::cancelled ||
                              (kind == sa::outcome::failed && s.plan[p].failures > 0));
        if (kind != expected && !cut_short)
            found.add("payload {} ended {}, expected {}", p, kind, expected);
    };
    std::unordered_map<sa::uuid, std::uint64_t> payload_of;
    if (by_event) {
        for (std::uint64_t p = 0; p < payloads; ++p) {
            if (calls(p) > 0) payload_of.emplace(shared.first_call_ids[p], p);
        }
    }
    const bool in_arrival_order =
        by_event && (s.strategy == strategy_kind::serial || s.strategy == strategy_kind::batched ||
                     (s.strategy == strategy_kind::parallel && s.ordered));
    std::optional<std::uint64_t> previous_sequence;
    for (const auto& [key, r] : result.collection()) {
        if (r.payload >= payloads) {
            found.add("result for unknown payload {}", r.payload);
            continue;
        }
        see_payload(r.payload, sa::outcome::processed);
        if (r.value != value_of(r.payload))
            found.add("payload {}: wrong value {}", r.payload, r.value);
        if (!by_event) continue;
        if (r.event_id != key)
            found.add("payload {}: collected under {}, made from event {}", r.payload, key,
                      r.event_id);
        if (shared.first_call_ids[r.payload] != key)
            found.add("payload {}: collected under {}, processed as {}", r.payload, key,
                      shared.first_call_ids[r.payload]);
        if (r.sequence) {
            see_sequence(*r.sequence);
            if (in_arrival_order && previous_sequence && *r.sequence < *previous_sequence)
                found.add("results out of arrival order: {} after {}", *r.sequence,
                          *previous_sequence);
            previous_sequence = r.sequence;
        }
        if (calls(r.payload) != s.plan[r.payload].failures + 1u)
            found.add("payload {} processed after {} calls, expected {}", r.payload,
                      calls(r.payload), s.plan[r.payload].failures + 1u);
    }
    std::size_t cancelled_unstarted = 0;
    for (const auto& e : result.errors()) {
        see_sequence(e.sequence);
        std::optional<std::uint64_t> p;
        if (by_event) {
            if (auto it = payload_of.find(e.event_id); it != payload_of.end()) p = it->second;
        }
        {
            // After a stop, an attempt may be counted and then interrupted
            // before the processor's body ran.
            const unsigned made = p ? calls(*p) : 0u;
            if (by_event && e.attempts != made && !(stopped_early && e.attempts == made + 1))
                found.add("{}: attempts={} but the processor was called {} times", e, e.attempts,
                          made);
        }
        switch (e.kind) {
        case sa::outcome::processed: break;
        case sa::outcome::failed: {
            const auto parsed = parse_failure(e.message);
            if (!parsed) {
                found.add("{}: not an injected failure", e);
                break;
            }
            // The last attempt, or an earlier one when a stop ended the retries.
            const unsigned attempt = parsed->attempt;
            if (attempt != s.retry + 1 && !(stopped_early && attempt >= 1 && attempt <= s.retry))
                found.add("{}: failed on attempt {}, expected the last ({})", e, attempt,
                          s.retry + 1);
            if (parsed->payload >= payloads || s.plan[parsed->payload].failures < attempt)
                found.add("{}: names a payload that does not fail on attempt {}", e, attempt);
            if (by_event) {
                if (!p) {
                    found.add("{}: failed, but the processor never saw it", e);
                } else {
                    see_payload(*p, sa::outcome::failed);
                    if (e.message != failure_message(*p, calls(*p)))
                        found.add("{}: payload {} was called {} times", e, *p, calls(*p));
                }
            }
            break;
        }
        case sa::outcome::timed_out:
            if (by_event) {
                if (!p) {
                    found.add("{}: timed out, but the processor never saw it", e);
                } else {
                    see_payload(*p, sa::outcome::timed_out);
                    if (calls(*p) != 1)
                        found.add("payload {} timed out after {} calls", *p, calls(*p));
                }
            }
            break;
        case sa::outcome::cancelled:
            if (by_event && p) {
                // Interrupted while it ran.
                see_payload(*p, sa::outcome::cancelled);
                if (s.plan[*p].hang && calls(*p) != 1)
                    found.add("hanging payload {} was called {} times", *p, calls(*p));
            } else {
                ++cancelled_unstarted;
            }
            break;
        case sa::outcome::dropped:  // these scenarios wait when full: nothing is dropped
            found.add("{}: dropped, but the channel's overflow policy is wait", e);
            break;
        }
    }

    std::uint64_t accepted_unstarted = 0;
    std::uint64_t calls_beyond_first = 0;
    for (std::uint64_t p = 0; p < payloads; ++p) {
        const unsigned n = calls(p);
        if (n > 0 && !shared.accepted[p])
            found.add("payload {} was processed but never accepted", p);
        if (n > s.retry + 1)
            found.add("payload {} was called {} times with retry {}", p, n, s.retry);
        if (!by_event) continue;
        if (n > 0) {
            calls_beyond_first += n - 1;
            if (!outcome_of[p]) found.add("payload {} was processed but has no outcome", p);
        } else if (shared.accepted[p]) {
            ++accepted_unstarted;
        }
    }
    if (by_event) {
        if (accepted_unstarted != cancelled_unstarted)
            found.add("{} accepted payloads never reached the processor, but {} unstarted events "
                      "ended cancelled",
                      accepted_unstarted, cancelled_unstarted);
        // Each retry is counted before its call; a stop may interrupt one in between.
        if (stats.retries < calls_beyond_first ||
            (!stopped_early && stats.retries != calls_beyond_first))
            found.add("stats.retries={} but the processor was called {} times beyond the first",
                      stats.retries, calls_beyond_first);
        for (std::uint64_t i = 0; i < sequence_seen.size(); ++i) {
            if (!sequence_seen[i]) found.add("no outcome carries arrival index {}", i);
        }
    }

    // The event that ended the stream.
    const bool final_accepted = s.end == stream_end::final_event && shared.accepted[s.events];
    const auto& final_event = result.final_event();
    if (final_accepted != final_event.has_value()) {
        found.add("final event accepted: {}, in the result: {}", final_accepted,
                  final_event.has_value());
    } else if (final_event) {
        if (final_event->payload() != s.events || !final_event->is_final())
            found.add("the final event is {}", *final_event);
        if (final_event->sequence() + 1 != stats.sent)
            found.add("the final event arrived at {} of {}", final_event->sequence(), stats.sent);
        if (!ids.contains(final_event->id())) found.add("the final event has no outcome");
        if (!final_event->completed()) found.add("the final event has no completion time");
    }
}

/// Runs `s` with `processor` and returns what is wrong (nothing, we hope).
template <class Processor>
findings run_with(const scenario& s, const std::shared_ptr<probe>& shared, Processor processor) {
    findings found;
    execution where(s.pool_threads);
    auto builder = sa::emitting_builder<std::uint64_t>(where.executor())
                       .name(fmt::format("stress-{:016x}", s.seed))
                       .capacity(s.capacity)
                       .retry(s.retry)
                       // every error is checked against the scenario, so every one is kept
                       .retain_errors(std::numeric_limits<std::size_t>::max());
    if (s.deadline == deadline_kind::distant) builder = builder.timeout(1h);
    if (s.deadline == deadline_kind::ends_hang) builder = builder.timeout(s.deadline_after);
    auto task = builder.receiver(make_strategy(s), std::move(processor)).start_queue();
    using task_type = decltype(task);

    if (s.cancel == cancel_point::before_first) task.cancel(s.level);
    std::vector<std::future<void>> coroutines;
    std::vector<std::thread> threads;
    const std::uint64_t n = s.producers.size();
    for (std::uint64_t i = 0; i < n; ++i) {
        producer_job<task_type> job{task,
                                    shared,
                                    s.events * i / n,
                                    s.events * (i + 1) / n,
                                    s.producers[i],
                                    s.cancel == cancel_point::after_k ? s.cancel_after : 0,
                                    s.level,
                                    sends_may_be_refused(s)};
        if (on_thread(job.style)) {
            threads.emplace_back(produce_on_thread<task_type>, std::move(job));
        } else {
            coroutines.push_back(asio::co_spawn(
                where.executor(), produce_in_coroutine(std::move(job)), asio::use_future));
        }
    }
    for (auto& producer : coroutines) {
        try {
            producer.get();
        } catch (const std::exception& e) {
            found.add("a producer coroutine threw: {}", e.what());
        }
    }
    for (auto& producer : threads)
        producer.join();

    if (s.end == stream_end::final_event) {
        std::promise<sweet_async::error_code> sent;
        auto outcome = sent.get_future();
        task.async_send_final(
            s.events, [&sent](sweet_async::error_code ec, sa::uuid) { sent.set_value(ec); });
        if (const auto ec = outcome.get(); !ec) {
            shared->accepted[s.events] = 1;
            shared->accepted_count.fetch_add(1, std::memory_order_relaxed);
        } else if (ec != sa::async_task_error::closed || !sends_may_be_refused(s)) {
            found.add("send_final failed with '{}'", ec.message());
        }
    } else {
        task.close();
    }

    auto result = asio::co_spawn(where.executor(), task.wait(), asio::use_future).get();
    if (!task.is_complete()) found.add("is_complete() is false after wait()");
    if (task.status() != result.status())
        found.add("task.status()={} but the result says {}", task.status(), result.status());
    if (s.cancel == cancel_point::after_wait) {
        task.cancel(s.level);
        if (task.status() != result.status())
            found.add("cancel() after the end changed the status to {}", task.status());
        if (task.stats() != result.stats())
            found.add("cancel() after the end changed the stats to {}", task.stats());
        if (task.try_send(s.events + 1) != sa::async_task_error::closed)
            found.add("a finished task accepted a send");
    }
    where.join();
    for (const auto& problem : shared->problems)
        found.add("{}", problem);
    check_property(s, *shared, result, found);
    return found;
}

findings run_scenario(const scenario& s) {
    watchdog guard(describe(s), std::chrono::seconds(sanitized ? 600 : 120));
    auto shared = std::make_shared<probe>(s);
    using viewed = sa::event_view<std::uint64_t>;
    switch (s.shape) {
    case processor_shape::sync:
        return run_with(s, shared, [shared](viewed e) {
            return process_sync(*shared, e.payload(), e.id(), e.inner().sequence());
        });
    case processor_shape::coroutine:
        return run_with(s, shared, [shared](viewed e) {
            return process_async(shared, e.payload(), e.id(), e.inner().sequence());
        });
    case processor_shape::sync_batch:
        return run_with(s, shared, [shared](std::span<const std::uint64_t> batch) {
            return process_batch_sync(*shared, batch);
        });
    case processor_shape::coroutine_batch:
        return run_with(s, shared, [shared](std::span<const std::uint64_t> batch) {
            return process_batch_async(shared, std::vector(batch.begin(), batch.end()));
        });
    }
    throw std::logic_error("unknown processor shape");
}

/// Runs `count` scenarios of `f` (or only the one named by
/// SWEET_ASYNC_STRESS_SCENARIO) and checks each.
void run_randomized(focus f, std::size_t count) {
    const std::string test_name = Catch::getResultCapture().getCurrentTestName();
    const auto start = std::chrono::steady_clock::now();
    std::size_t with_hangs = 0;
    std::size_t ran = 0;
    stress_support::for_each_seed(
        test_name, static_cast<std::uint64_t>(f), count, [&](std::uint64_t seed) {
            const scenario s = make_scenario(seed, f);
            ++ran;
            with_hangs += !s.hangs.empty();
            INFO(describe(s));
            INFO(fmt::format("replay: SWEET_ASYNC_STRESS_SCENARIO={:#018x} "
                             "sweet_async_tests \"{}\"",
                             seed, test_name));
            const findings found = run_scenario(s);
            INFO(found.text());
            CHECK(found.empty());
        });
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    fmt::print("[stress] {}: {} scenario(s), {} with hangs, in {:.2f}s\n", test_name, ran,
               with_hangs, took.count());
}

// ----- the long run --------------------------------------------------------------------------

struct long_totals {
    std::uint64_t sum = 0;
    std::uint64_t count = 0;
    std::uint64_t xor_all = 0;
};

/// Payloads ending in 999 fail on every attempt; those ending in 500 fail
/// once and succeed on their retry.
std::uint64_t long_run_value(std::uint64_t payload, unsigned attempt) {
    if (payload % 1000 == 999 || (payload % 1000 == 500 && attempt == 1))
        throw std::runtime_error(failure_message(payload, attempt));
    return value_of(payload);
}

template <class Strategy>
void run_long(std::string_view label, Strategy strategy, std::uint64_t events) {
    watchdog guard(fmt::format("the long run through {}", label),
                   std::chrono::seconds(sanitized ? 900 : 300));
    asio::thread_pool pool(2);
    auto task =
        sa::emitting_builder<std::uint64_t>(pool)
            .name(fmt::format("long-{}", label))
            .capacity(256)
            .retry(1)
            .retain_errors(std::numeric_limits<std::size_t>::max())
            .receiver(strategy, [](const std::uint64_t& payload, sa::processor_context<>& context,
                                   sa::uuid) { return long_run_value(payload, context.attempt()); })
            .collector(sa::fold_collector{long_totals{},
                                          [](long_totals& t, std::uint64_t v) {
                                              t.sum += v;
                                              ++t.count;
                                              t.xor_all ^= v;
                                          }})
            .start_queue();

    // Two plain threads with try_send and one coroutine that awaits each send.
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t third = events / 3;
    std::atomic<std::uint64_t> refused{0};
    auto on_thread = [task, &refused](std::uint64_t begin, std::uint64_t end) mutable {
        for (auto payload = begin; payload < end; ++payload) {
            for (unsigned spins = 0;; ++spins) {
                const sweet_async::error_code ec = task.try_send(payload);
                if (ec != sa::async_task_error::full) {
                    if (ec) refused.fetch_add(1);
                    break;
                }
                if (spins < 64) {
                    std::this_thread::yield();
                } else {
                    std::this_thread::sleep_for(50us);
                }
            }
        }
    };
    std::thread first(on_thread, 0, third);
    std::thread second(on_thread, third, 2 * third);
    auto awaiting = asio::co_spawn(
        pool,
        [](auto task, std::uint64_t begin, std::uint64_t end) -> asio::awaitable<void> {
            for (auto payload = begin; payload < end; ++payload)
                co_await task.send(payload);
        }(task, 2 * third, events),
        asio::use_future);
    first.join();
    second.join();
    awaiting.get();
    task.close();
    auto result = asio::co_spawn(pool, task.wait(), asio::use_future).get();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    fmt::print("[stress] long run, {}: {} events in {:.2f}s ({})\n", label, events, took.count(),
               result.stats());

    long_totals expected;
    std::uint64_t failing = 0;
    std::uint64_t flaky = 0;
    for (std::uint64_t payload = 0; payload < events; ++payload) {
        if (payload % 1000 == 999) {
            ++failing;
            continue;
        }
        flaky += payload % 1000 == 500;
        expected.sum += value_of(payload);
        ++expected.count;
        expected.xor_all ^= value_of(payload);
    }
    const auto& stats = result.stats();
    CHECK(refused == 0);
    CHECK(result.status() == sa::task_status::completed);
    CHECK(stats.balanced());
    CHECK(stats.sent == events);
    CHECK(stats.processed == events - failing);
    CHECK(stats.failed == failing);
    CHECK(stats.timed_out == 0);
    CHECK(stats.cancelled == 0);
    CHECK(stats.retries == failing + flaky);
    CHECK(result.collection().size() == stats.processed);
    CHECK(result.result().count == expected.count);
    CHECK(result.result().sum == expected.sum);
    CHECK(result.result().xor_all == expected.xor_all);

    // The failed events, exactly: each failing payload once, with its message.
    REQUIRE(result.errors().size() == failing);
    std::unordered_set<std::uint64_t> failed_payloads;
    std::unordered_set<sa::uuid> ids;
    std::unordered_set<std::uint64_t> sequences;
    std::size_t wrong = 0;
    for (const auto& e : result.errors()) {
        const auto parsed = parse_failure(e.message);
        const bool right = e.kind == sa::outcome::failed && parsed && parsed->attempt == 2 &&
                           parsed->payload % 1000 == 999 && parsed->payload < events &&
                           failed_payloads.insert(parsed->payload).second &&
                           ids.insert(e.event_id).second && sequences.insert(e.sequence).second &&
                           e.sequence < events;
        if (!right && wrong++ == 0) FAIL_CHECK("unexpected error: " << fmt::format("{}", e));
    }
    CHECK(wrong == 0);
    CHECK(failed_payloads.size() == failing);
}

// ----- payload copies that throw, contexts destroyed mid-stream ------------------------------

/// A payload whose copy throws when asked to: `try_send(const T&)` copies, so
/// such a send fails after the channel claimed its place for it.
struct brittle {
    std::uint64_t value = 0;
    bool refuses_copy = false;

    brittle(std::uint64_t v, bool refuses) : value(v), refuses_copy(refuses) {}
    brittle(const brittle& other) : value(other.value), refuses_copy(other.refuses_copy) {
        if (refuses_copy) throw std::runtime_error("copy refused");
    }
    brittle(brittle&&) noexcept = default;
    brittle& operator=(const brittle&) = default;
    brittle& operator=(brittle&&) noexcept = default;
    ~brittle() = default;
};

enum class brittle_strategy {
    serial,
    parallel,
    parallel_ordered,
    parallel_offload,
    adaptive,
    batched
};

struct brittle_scenario {
    std::uint64_t seed = 0;
    brittle_strategy strategy = brittle_strategy::serial;
    std::uint64_t events = 0;
    std::uint64_t refuse_every = 0;  // every n-th send's copy throws
    std::size_t capacity = 0;
    /// Destroy the task's context once this many events were processed.
    std::optional<std::uint64_t> destroy_after;
};

brittle_scenario make_brittle_scenario(std::uint64_t seed) {
    random_source r(seed);
    brittle_scenario s;
    s.seed = seed;
    s.strategy = r.pick({brittle_strategy::serial, brittle_strategy::parallel,
                         brittle_strategy::parallel_ordered, brittle_strategy::parallel_offload,
                         brittle_strategy::adaptive, brittle_strategy::batched});
    s.events = r.between(50, sanitized ? 300 : 1000);
    s.refuse_every = r.between(2, 11);
    s.capacity = r.pick<std::size_t>({1, 4, 16, 64});
    if (r.chance(50)) s.destroy_after = r.between(0, s.events / 3);
    return s;
}

std::string describe_brittle(const brittle_scenario& s) {
    constexpr std::string_view names[] = {"serial",           "parallel", "parallel ordered",
                                          "parallel offload", "adaptive", "batched"};
    return fmt::format("seed={:#018x} {} events={} refuse_every={} capacity={} destroy_after={}",
                       s.seed, names[static_cast<int>(s.strategy)], s.events, s.refuse_every,
                       s.capacity, s.destroy_after ? fmt::format("{}", *s.destroy_after) : "never");
}

/// Sends every payload from a thread of its own (retrying while the channel
/// is full) and returns the values accepted, in the order they were.
template <class Task>
std::vector<std::uint64_t> send_brittle(Task& task, const brittle_scenario& s, bool& refused_all) {
    std::vector<std::uint64_t> accepted;
    std::uint64_t refused = 0;
    for (std::uint64_t i = 0; i < s.events; ++i) {
        const brittle payload(i, i % s.refuse_every == 1);
        for (;;) {
            sweet_async::error_code sent;
            try {
                sent = task.try_send(payload);  // copies
            } catch (const std::runtime_error&) {
                ++refused;
                break;
            }
            if (!sent) {
                accepted.push_back(i);
                break;
            }
            if (sent != sa::async_task_error::full) return accepted;  // closed: the context went
            std::this_thread::yield();
        }
    }
    refused_all = refused == (s.events + s.refuse_every - 2) / s.refuse_every;
    task.close();
    return accepted;
}

/// Runs `s` and returns what is wrong.
template <class Processor, class Strategy>
findings run_brittle_with(const brittle_scenario& s, Strategy strategy, Processor processor) {
    findings found;
    auto context = std::make_unique<asio::thread_pool>(2);
    auto task = sa::emitting_builder<brittle>(*context)
                    .capacity(s.capacity)
                    .retain_errors(SIZE_MAX)
                    .receiver(std::move(strategy), std::move(processor))
                    .start_queue();
    std::vector<std::uint64_t> accepted;
    bool refused_all = true;
    std::thread producer([&] { accepted = send_brittle(task, s, refused_all); });
    if (s.destroy_after) {
        while (task.stats().processed < *s.destroy_after && !task.is_complete())
            std::this_thread::yield();
        context.reset();  // whatever is still running or queued goes with it
    }
    producer.join();
    std::optional<typename decltype(task)::result_type> result;
    if (context) {
        asio::io_context waiter;
        result.emplace(test_support::run(waiter, [&] { return task.wait(); }));
        context->join();
    }
    const auto stats = task.stats();  // final: the task ended, or went with its context
    if (stats.sent != accepted.size()) {
        found.add("sent={} but {} sends were accepted", stats.sent, accepted.size());
    }
    if (!stats.balanced()) found.add("not balanced: {}", stats);
    if (context) {
        if (!refused_all) found.add("a copy that should have thrown did not (or the reverse)");
        if (result->status() != sa::task_status::completed) {
            found.add("ended {} instead of completed", result->status());
        }
        if (stats.processed != accepted.size()) {
            found.add("processed={} of {} accepted", stats.processed, accepted.size());
        }
        std::vector<std::uint64_t> values;
        for (const auto& entry : result->collection())
            values.push_back(entry.value);
        if (s.strategy != brittle_strategy::parallel_ordered)
            std::sort(values.begin(), values.end());
        if (values != accepted)
            found.add("the results are not the accepted payloads, once each, in order");
    } else if (task.status() != sa::task_status::completed &&
               task.status() != sa::task_status::cancelled) {
        found.add("destroyed with its context, it ended {}", task.status());
    }
    return found;
}

findings run_brittle(const brittle_scenario& s, const asio::any_io_executor& offload) {
    auto value_of = [](const brittle& b) { return b.value; };
    switch (s.strategy) {
    case brittle_strategy::serial: return run_brittle_with(s, sa::serial{}, value_of);
    case brittle_strategy::parallel:
        return run_brittle_with(s, sa::parallel{.workers = {1, 8}}, value_of);
    case brittle_strategy::parallel_ordered:
        return run_brittle_with(s, sa::parallel{.workers = {1, 8}, .ordered = true}, value_of);
    case brittle_strategy::parallel_offload:
        return run_brittle_with(s, sa::parallel{.workers = {1, 8}, .offload = offload}, value_of);
    case brittle_strategy::adaptive: {
        sa::adaptive adaptive;
        adaptive.sample_size = 32;
        adaptive.workers = {1, 8};
        adaptive.offload = offload;
        return run_brittle_with(s, adaptive, value_of);
    }
    case brittle_strategy::batched:
        return run_brittle_with(
            s, sa::batched{.batch_size = 8, .window = std::chrono::milliseconds(1)},
            [](std::span<const brittle> batch) {
                std::vector<std::uint64_t> values;
                for (const auto& b : batch)
                    values.push_back(b.value);
                return values;
            });
    }
    throw std::logic_error("unknown brittle strategy");
}

/// Runs `count` scenarios with payload copies that throw and, in half of
/// them, the task's context destroyed mid-stream.
void run_brittle_randomized(std::size_t count) {
    asio::thread_pool offload(2);
    constexpr std::uint64_t salt = 0x0b;  // apart from the focus values of run_randomized
    stress_support::for_each_seed(
        Catch::getResultCapture().getCurrentTestName(), salt, count, [&](std::uint64_t seed) {
            const brittle_scenario s = make_brittle_scenario(seed);
            INFO(describe_brittle(s));
            watchdog guard(describe_brittle(s), std::chrono::seconds(120));
            const findings found = run_brittle(s, offload.get_executor());
            INFO(found.text());
            CHECK(found.empty());
        });
}

}  // namespace

TEST_CASE("stress: randomized scenarios account for every event exactly once", "[stress]") {
    run_randomized(focus::any, 240);
}

TEST_CASE("stress: cancellation before the first send or after k sends or after the end",
          "[stress]") {
    run_randomized(focus::cancellation, 150);
}

TEST_CASE("stress: several producer threads and coroutines on a shared channel", "[stress]") {
    run_randomized(focus::producers, 45);
}

TEST_CASE("stress: hanging processors end timed_out or cancelled and are never processed",
          "[stress]") {
    run_randomized(focus::hangs, 45);
}

TEST_CASE("stress: a million events through one task are accounted for exactly", "[stress][long]") {
    constexpr std::uint64_t events = sanitized ? 100'000 : 1'000'000;
    SECTION("serial") {
        run_long("serial", sa::serial{}, events);
    }
    SECTION("parallel") {
        run_long("parallel", sa::parallel{.workers = {1, 4}}, events);
    }
}

TEST_CASE("stress: payload copies that throw and contexts destroyed mid-stream lose nothing",
          "[stress]") {
    run_brittle_randomized(sanitized ? 40 : 120);
}
