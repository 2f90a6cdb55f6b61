// sweet_async/receiver/detail/in_flight_bound.hpp: the bound a concurrent strategy keeps its work
// under.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_IN_FLIGHT_BOUND_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_IN_FLIGHT_BOUND_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <system_error>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER_IN(experimental, awaitable_operators)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)
#include <fmt/format.h>

#include <sweet_async/base/min_max.hpp>
#include <sweet_async/base/processing_measurement.hpp>
#include <sweet_async/receiver/concurrency_limit.hpp>

namespace sweet_async::detail {

/// The in-flight bound of `parallel` and `per_key`: `workers.max`, or their
/// `concurrency_limit` within `workers`. Waiting for room also wakes when the
/// limit is raised; an adaptive limit is fed the receiver's latency
/// measurements, a window at a time. Lives in the strategy's coroutine.
class in_flight_bound {
public:
    in_flight_bound(const concurrency_limit& limit, const min_max<std::size_t>& workers)
        : limit_(limit),
          workers_(workers) {}

    /// The bound now.
    std::size_t current() const noexcept { return limit_.bound(workers_); }

    /// The bound now; when it moved since the last call, `strategy` (whose
    /// formatting shows its limit) is published as the receiver's current
    /// choice, with the move as a decision, so the task's strategy report
    /// tells the bound in force.
    template <class Receiver, class Strategy>
    std::size_t current(Receiver& receiver, const Strategy& strategy) {
        const std::size_t now = current();
        if (limit_ && now != reported_) {
            receiver.report(fmt::format("{}", strategy),
                            reported_ == 0
                                ? std::string()
                                : fmt::format("in-flight bound {} -> {}", reported_, now));
            reported_ = now;
        }
        return now;
    }

    /// Suspends until `receiver` has fewer than `current()` in flight, or the
    /// limit was raised; the caller re-checks.
    template <class Receiver>
    asio::awaitable<void> wait_for_room(Receiver& receiver) {
        const std::size_t bound = current();
        // At workers.max no raise of the limit can lift the bound: only room
        // will do (waiting for the limit would complete at once, and spin).
        if (!limit_ || bound >= workers_.max) {
            co_return co_await receiver.wait_in_flight_below(bound);
        }
        using namespace asio::experimental::awaitable_operators;
        error_code raised;  // or cancelled, when room came first
        co_await (receiver.wait_in_flight_below(bound) ||
                  limit_.async_wait_above(bound, receiver.get_executor(),
                                          asio::redirect_error(asio::use_awaitable, raised)));
    }

    /// After starting work: notes the most in flight, and feeds an adaptive
    /// limit each time a window of latency samples is complete.
    template <class Receiver>
    void observe(Receiver& receiver) {
        if (!limit_.adaptive()) return;
        if (!measuring_) {
            receiver.measure_latency();
            measuring_ = true;
        }
        most_in_flight_ = std::max(most_in_flight_, receiver.in_flight());
        const processing_measurement m = receiver.take_measurement();
        window_.finished += m.finished;
        window_.latency_samples += m.latency_samples;
        window_.total_latency += m.total_latency;
        if (window_.latency_samples < limit_.samples_per_window()) return;
        limit_.observe(window_.mean_latency(), most_in_flight_, workers_);
        window_ = {};
        most_in_flight_ = receiver.in_flight();
    }

private:
    concurrency_limit limit_;
    min_max<std::size_t> workers_;
    processing_measurement window_;
    std::size_t most_in_flight_ = 0;
    std::size_t reported_ = 0;  // the bound last published; 0 before the first
    bool measuring_ = false;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_IN_FLIGHT_BOUND_HPP
