// sweet_async/receiver/concurrency_limit.hpp: a bound on the work in flight that can change while a
// task runs.
#ifndef SWEET_ASYNC_RECEIVER_CONCURRENCY_LIMIT_HPP
#define SWEET_ASYNC_RECEIVER_CONCURRENCY_LIMIT_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(async_result)
#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/min_max.hpp>
#include <sweet_async/base/vegas_options.hpp>
#include <sweet_async/channel/detail/waiter.hpp>
#include <sweet_async/receiver/detail/vegas_limiter.hpp>

namespace sweet_async {

/// A bound on the events a strategy keeps in flight (`parallel`, `per_key`)
/// that can change while the task runs: set by hand from any thread, or by
/// measured latency (`vegas`), for processors that call a service that
/// slows down under load. Within the strategy's `workers` bounds, it is the
/// strategy's bound instead of `workers.max`. Raising it lets more events
/// start at once; lowering it lets the work in flight finish and starts
/// nothing above the new bound.
///
/// A handle: copies share one limit, so the application keeps one to set
/// while the strategy holds another. A default-constructed one is no limit.
///
/// ```cpp
/// sa::concurrency_limit limit(8);
/// auto task = builder.receiver(sa::parallel{.workers = {1, 64}, .limit = limit}, fetch)
///                 .start_queue();
/// limit.set(32);  // from any thread, at any time
/// ```
class concurrency_limit {
public:
    /// No limit: the strategy's `workers.max` is its bound.
    concurrency_limit() = default;

    /// A limit set by hand, starting at `initial`.
    explicit concurrency_limit(std::size_t initial) : state_(std::make_shared<state>(initial)) {}

    /// A limit that follows the latency the strategy measures (see
    /// `vegas_options`): it grows while the service queues few requests
    /// and shrinks when its latency says more of them wait.
    static concurrency_limit vegas(vegas_options options = {}) {
        concurrency_limit limit(std::max<std::size_t>(options.initial, 1));
        limit.state_->limiter.emplace(options);
        limit.state_->options = options;
        return limit;
    }

    /// True unless it is no limit.
    explicit operator bool() const noexcept { return state_ != nullptr; }

    /// True for a limit that follows measured latency.
    bool adaptive() const noexcept { return state_ && state_->limiter; }

    /// The limit now (`SIZE_MAX` for no limit). Any thread.
    std::size_t get() const noexcept {
        // Acquire: pairs with set(); a strategy that reads a raised limit
        // starts work only after the raise.
        return state_ ? state_->value.load(std::memory_order_acquire) : SIZE_MAX;
    }

    /// Sets the limit. Any thread, any time; a strategy waiting for room is
    /// woken when it is raised. Setting an adaptive limit moves it, and its
    /// latency measurements go on from there.
    void set(std::size_t value) const {
        if (!state_) return;
        std::vector<std::unique_ptr<detail::waiter>> woken;
        {
            std::lock_guard lock(state_->mutex);
            state_->value.store(value, std::memory_order_release);
            if (state_->limiter) state_->limiter->reset(value);
            auto& parked = state_->waiters;
            for (auto it = parked.begin(); it != parked.end();) {
                if (it->first < value) {
                    woken.push_back(std::move(it->second));
                    it = parked.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (auto& w : woken)
            w->complete({});
    }

    /// The bound of a strategy whose own bounds are `workers`: the limit,
    /// kept within them (at least 1), or `workers.max` for no limit.
    std::size_t bound(const min_max<std::size_t>& workers) const noexcept {
        if (!state_) return workers.max;
        const std::size_t lowest = std::max<std::size_t>(workers.min, 1);
        return std::clamp(get(), lowest, std::max(lowest, workers.max));
    }

    /// Completes, `void(error_code)`, once the limit is above `than`
    /// (at once if it is already), or with `operation_aborted` when the
    /// operation is cancelled (Asio per-operation cancellation): a strategy
    /// waits for it beside its work in flight. Handlers run on their
    /// associated executor, else `executor`.
    template <class CompletionToken>
    auto async_wait_above(std::size_t than, const asio::any_io_executor& executor,
                          CompletionToken&& token) const {
        return asio::async_initiate<CompletionToken, void(error_code)>(
            [shared = state_, than, executor](auto handler) {
                if (!shared) {  // no limit: it never moves
                    detail::post_completion(std::move(handler), executor,
                                            detail::operation_aborted());
                    return;
                }
                std::weak_ptr<state> weak = shared;
                auto parked =
                    detail::make_waiter(std::move(handler), executor, [weak](detail::waiter* w) {
                        if (auto alive = weak.lock()) {
                            withdraw(*alive, w);
                        }
                    });
                std::unique_lock lock(shared->mutex);
                if (shared->value.load(std::memory_order_relaxed) > than) {
                    lock.unlock();
                    parked->complete({});
                    return;
                }
                shared->waiters.emplace_back(than, std::move(parked));
            },
            token);
    }

    /// What an adaptive limit's strategy reports after each of its windows:
    /// the window's mean latency and the most events it had in flight. The
    /// limit moves within `workers`. Consumer strand.
    void observe(std::chrono::nanoseconds latency, std::size_t in_flight,
                 const min_max<std::size_t>& workers) const {
        if (!adaptive()) return;
        std::size_t next = 0;
        {
            std::lock_guard lock(state_->mutex);
            next = state_->limiter->update(latency, in_flight, workers.min, workers.max);
        }
        if (next != get()) set(next);
    }

    /// The latency samples an adaptive limit wants per window (0 for others).
    std::size_t samples_per_window() const noexcept {
        return adaptive() ? std::max<std::size_t>(state_->options.samples_per_window, 1) : 0;
    }

    /// How the limit moves: its settings, for formatting.
    std::optional<vegas_options> vegas_settings() const {
        if (!adaptive()) return std::nullopt;
        return state_->options;
    }

private:
    struct state {
        explicit state(std::size_t initial) : value(initial) {}
        std::atomic<std::size_t> value;
        std::mutex mutex;  // guards what follows
        std::vector<std::pair<std::size_t, std::unique_ptr<detail::waiter>>> waiters;
        std::optional<detail::vegas_limiter> limiter;
        vegas_options options;
    };

    static void withdraw(state& s, detail::waiter* w) {
        std::unique_ptr<detail::waiter> found;
        {
            std::lock_guard lock(s.mutex);
            auto it = std::find_if(s.waiters.begin(), s.waiters.end(),
                                   [w](const auto& p) { return p.second.get() == w; });
            if (it == s.waiters.end()) return;
            found = std::move(it->second);
            s.waiters.erase(it);
        }
        found->complete(detail::operation_aborted());
    }

    std::shared_ptr<state> state_;
};

}  // namespace sweet_async

/// "8", "vegas(initial=4, ...) now 12", or "none".
template <>
struct fmt::formatter<sweet_async::concurrency_limit> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::concurrency_limit& l, fmt::format_context& ctx) const {
        using sweet_async::detail::write_text;
        if (!l) return write_text(ctx, "none");
        if (auto g = l.vegas_settings())
            return write_text(ctx, fmt::format("{} now {}", *g, l.get()));
        return write_text(ctx, fmt::format("{}", l.get()));
    }
};

#endif  // SWEET_ASYNC_RECEIVER_CONCURRENCY_LIMIT_HPP
