// sweet_async/detail/stop_listener.hpp: who hears that a task must stop now.
#ifndef SWEET_ASYNC_DETAIL_STOP_LISTENER_HPP
#define SWEET_ASYNC_DETAIL_STOP_LISTENER_HPP

namespace sweet_async::detail {

/// What a task's state tells when `cancel(immediate)` or the deadline asks
/// it to stop: the receiver's work in flight, which interrupts what it runs.
/// Called on the consumer strand.
class stop_listener {
public:
    virtual ~stop_listener() = default;
    virtual void stop_requested() = 0;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_DETAIL_STOP_LISTENER_HPP
