// sweet_async/base/detail/stop_listener.hpp: who hears that a task must stop.
#ifndef SWEET_ASYNC_BASE_DETAIL_STOP_LISTENER_HPP
#define SWEET_ASYNC_BASE_DETAIL_STOP_LISTENER_HPP

namespace sweet_async::detail {

/// Why the task is being stopped: the first request wins, except that a
/// graceful one may escalate (see `emitting_core::request_stop`). Ordered by
/// urgency, so a listener can say from which request on it acts.
enum class stop_request {
    none,
    graceful,   ///< cancel(graceful): finish what is queued, end as cancelled.
    immediate,  ///< cancel(immediate): queued events end as cancelled.
    deadline,   ///< whole-task timeout: like immediate, ends as timed_out.
};

/// What a task's state tells of every stop request that takes effect: the
/// receiver's work in flight and the stream processor (which act from
/// `immediate` on) and the task's emitters (which stop producing on any
/// request). Called on the consumer strand.
class stop_listener {
public:
    virtual ~stop_listener() = default;
    virtual void stop_requested(stop_request request) = 0;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_STOP_LISTENER_HPP
