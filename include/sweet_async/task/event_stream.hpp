// sweet_async/task/event_stream.hpp: the task's events, as a stream processor pulls them.
#ifndef SWEET_ASYNC_TASK_EVENT_STREAM_HPP
#define SWEET_ASYNC_TASK_EVENT_STREAM_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)

#include <sweet_async/base/event.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/channel/channel.hpp>
#include <sweet_async/channel/detail/outbox.hpp>
#include <sweet_async/receiver/detail/event_source.hpp>
#include <sweet_async/task/pulled_event.hpp>

namespace sweet_async {

namespace detail {

/// Where a stream's outcomes are recorded: the task's ledger, behind the
/// collector's type (so that `event_stream` does not depend on it).
template <class Event, class R>
class stream_outcomes {
public:
    virtual void processed(Event&& e, R&& result) = 0;
    virtual void processed_without_result(Event&& e) = 0;
    virtual void unprocessed(Event&& e, outcome kind, std::string reason, unsigned attempts) = 0;
    /// Counts an extra attempt, made now.
    virtual void retrying() noexcept = 0;
    /// True once `cancel(immediate)` or the deadline asked the task to stop.
    virtual bool stopping() const noexcept = 0;
    /// Why work that a stop interrupted ends cancelled.
    virtual std::string stop_reason() const = 0;

protected:
    ~stream_outcomes() = default;
};

}  // namespace detail

/// The event stream of a task built with `stream_processor(...)`: its
/// coroutine pulls the events itself and gives each one its outcome.
///
/// ```cpp
/// [](sa::event_stream<std::string, std::size_t>& stream) -> asio::awaitable<void> {
///     while (auto e = co_await stream.next()) e->complete(e->payload().size());
/// }
/// ```
///
/// `next()` hands out the events in arrival order, an event to retry (see
/// `pulled_event::fail`) as soon as its backoff has passed, and `nullopt`
/// once the stream has ended (every event sent was pulled, and no retry is
/// waiting) or the task is stopping (`cancel(immediate)`, deadline). Used
/// from the stream processor's coroutine only, on the task's consumer strand,
/// where Asio resumes it after every `co_await`.
template <class T, class R = std::monostate, task_id Id = uuid>
class event_stream {
public:
    using event_type = event<T, Id>;             ///< The events it carries.
    using pulled_type = pulled_event<T, R, Id>;  ///< What `next()` hands out.
    using result_type = R;                       ///< What a completed event collects.
    using clock = std::chrono::steady_clock;     ///< Of the retries' backoff.

    event_stream(const event_stream&) = delete;
    event_stream& operator=(const event_stream&) = delete;

    /// The next event: one ready now without suspending, or else waits for
    /// one. `nullopt` once the stream has ended or the task is stopping.
    asio::awaitable<std::optional<pulled_type>> next();

    /// The next event if one is ready now (a retry whose backoff has passed,
    /// or an event in the channel); never suspends.
    std::optional<pulled_type> try_next();

    /// True once every event sent was pulled and no retry is waiting: `next()`
    /// returns `nullopt` from now on (unless a pulled event still fails and
    /// is retried).
    bool ended() const noexcept { return source_.ended() && retries_.empty(); }

    /// True once `cancel(immediate)` or the task's deadline asked the task to
    /// stop: `next()` returns `nullopt`, and the coroutine is interrupted at
    /// its next `co_await` (Asio's terminal cancellation).
    bool stopping() const noexcept { return outcomes_.stopping(); }

    /// Events waiting in the channel (a snapshot).
    std::size_t queued() const noexcept { return source_.queued(); }
    /// Failed events waiting for their retry.
    std::size_t retries_waiting() const noexcept { return retries_.size(); }
    /// Pulled events whose outcome is not given yet.
    std::size_t pending() const noexcept { return pending_; }

    /// The name of the task.
    const std::string& task_name() const noexcept { return options_.name; }

protected:
    /// Reads `channel` on `strand` (the consumer's); records into `outcomes`,
    /// which must outlive it.
    event_stream(channel<event_type>& channel, const asio::any_io_executor& strand,
                 const task_options& options, detail::stream_outcomes<event_type, R>& outcomes)
        : source_(channel, strand, &outlets_.gate(), options.throttle),
          options_(options),
          outcomes_(outcomes),
          wake_(strand) {}

    ~event_stream() = default;

    /// Waits until no pulled event is pending, then records what is left:
    /// the events released without an outcome as `released_kind` for
    /// `released_reason`, and those waiting for a retry as cancelled for
    /// `retry_reason`. Consumer strand, once the stream processor has ended.
    asio::awaitable<void> settle(outcome released_kind, std::string released_reason,
                                 std::string retry_reason);

    /// Ends every event not pulled yet as cancelled for `reason`, until the
    /// channel is drained; closes it first, so producers are refused from now.
    asio::awaitable<void> cancel_unpulled(const std::string& reason);

    /// The outboxes the task's results and dead letters wait in for the next
    /// stage's room; receiving holds at their gate.
    detail::outbox_set& outlets() noexcept { return outlets_; }

    /// What must hear stop requests for the throttle's sake (null without one).
    std::shared_ptr<detail::stop_listener> pacing() const { return source_.pacing(); }

private:
    friend class pulled_event<T, R, Id>;

    /// An event that failed and waits for its retry.
    struct retry {
        clock::time_point due;
        event_type e;
        unsigned attempts;  // made so far
    };

    /// A pulled event given back without an outcome.
    struct released {
        event_type e;
        unsigned attempts;
    };

    pulled_type hand_out(event_type&& e, unsigned attempt);

    // What a pulled event calls (consumer strand).
    void completed(event_type&& e, R&& result);
    void completed_without_result(event_type&& e);
    void failed(event_type&& e, unsigned attempt, std::string reason);
    // NOLINTNEXTLINE(bugprone-exception-escape): see its definition
    void release(event_type&& e, unsigned attempt) noexcept;

    /// Records the events released since the last call as `kind`, for `reason`.
    void record_released(outcome kind, const std::string& reason);
    void end_pending() noexcept;

    detail::outbox_set outlets_;  // before source_, which holds at its gate
    detail::event_source<event_type> source_;
    const task_options& options_;
    detail::stream_outcomes<event_type, R>& outcomes_;
    std::vector<retry> retries_;      // a min-heap on `due` (see `later`)
    std::vector<released> released_;  // has room for every pending event (see `hand_out`)
    std::size_t pending_ = 0;
    bool settling_ = false;    // `settle` waits for `pending_` to reach 0
    asio::steady_timer wake_;  // a retry's backoff; cancelled to wake `settle`
};

}  // namespace sweet_async

#include <sweet_async/task/impl/event_stream.hpp>

#endif  // SWEET_ASYNC_TASK_EVENT_STREAM_HPP
