// sweet_async/detail/emitting_state.hpp: what producers, the consumer and handles share.
#ifndef SWEET_ASYNC_DETAIL_EMITTING_STATE_HPP
#define SWEET_ASYNC_DETAIL_EMITTING_STATE_HPP

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <sweet_async/channel.hpp>
#include <sweet_async/detail/completion.hpp>
#include <sweet_async/event.hpp>
#include <sweet_async/final_result.hpp>
#include <sweet_async/strategy_report.hpp>
#include <sweet_async/task_options.hpp>
#include <sweet_async/task_stats.hpp>
#include <sweet_async/task_status.hpp>

namespace sweet_async::detail {

/// Why the task is being stopped, first request wins.
enum class stop_request {
    none,
    graceful,   ///< cancel(graceful): finish what is queued, end as cancelled.
    immediate,  ///< cancel(immediate): queued events end as cancelled.
    deadline,   ///< whole-task timeout: like immediate, ends as timed_out.
};

/// The shared state of one emitting task. Producers touch only the channel
/// and the stop request; the consumer coroutine owns everything else that
/// changes, and publishes counts through relaxed atomics for live stats.
template <class T, class Collection, class Id>
class emitting_state {
public:
    using event_type = event<T, Id>;
    using result_type = final_result<T, Collection, Id>;

    emitting_state(asio::any_io_executor executor, task_options settings)
        : options(std::move(settings)),
          id(Id::generate()),
          executor(std::move(executor)),
          consumer_executor(asio::make_strand(this->executor)),
          channel(this->executor, options.capacity),
          deadline(this->executor) {}

    const task_options options;
    const Id id;
    const asio::any_io_executor executor;
    /// A strand of `executor`: the consumer coroutine and the recording of
    /// concurrently processed events run here, so they never overlap.
    const asio::any_io_executor consumer_executor;
    sweet_async::channel<event_type> channel;
    asio::steady_timer deadline;  // used by the consumer coroutine only
    const std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

    std::atomic<task_status> status{task_status::running};
    std::atomic<stop_request> stop{stop_request::none};
    std::atomic<std::size_t> processed{0};
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> timed_out{0};
    std::atomic<std::size_t> cancelled{0};
    std::atomic<std::size_t> retries{0};
    std::atomic<std::chrono::nanoseconds::rep> final_elapsed{-1};

private:
    mutable std::mutex report_mutex;
    sweet_async::strategy_report report;

public:
    completion<result_type> done;

    /// Replaces the current choice and appends `decision` (if any) to the
    /// strategy's report. Rare (a strategy's decisions), so a lock is fine.
    void report_strategy(std::string current, std::string decision = {}) {
        std::lock_guard lock(report_mutex);
        report.current = std::move(current);
        if (decision.empty()) return;
        constexpr std::size_t kept = 64;
        if (report.decisions.size() == kept) report.decisions.erase(report.decisions.begin());
        report.decisions.push_back(std::move(decision));
    }

    sweet_async::strategy_report strategy_report() const {
        std::lock_guard lock(report_mutex);
        return report;
    }

    /// Records the first stop request and closes the channel. Thread-safe.
    void request_stop(stop_request request) {
        auto expected = stop_request::none;
        stop.compare_exchange_strong(expected, request, std::memory_order_acq_rel);
        channel.close();
    }

    /// True when queued events must end as cancelled instead of processed.
    bool stopping() const noexcept {
        const auto request = stop.load(std::memory_order_relaxed);
        return request == stop_request::immediate || request == stop_request::deadline;
    }

    /// Live counts (final ones once the task has ended).
    task_stats stats() const {
        task_stats s;
        s.processed = processed.load(std::memory_order_relaxed);
        s.failed = failed.load(std::memory_order_relaxed);
        s.timed_out = timed_out.load(std::memory_order_relaxed);
        s.cancelled = cancelled.load(std::memory_order_relaxed);
        s.retries = retries.load(std::memory_order_relaxed);
        s.sent = channel.sent();
        const auto end = final_elapsed.load(std::memory_order_acquire);
        s.elapsed = end >= 0 ? std::chrono::nanoseconds(end)
                             : std::chrono::steady_clock::now() - started_at;
        return s;
    }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_EMITTING_STATE_HPP
