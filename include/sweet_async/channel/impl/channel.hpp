// sweet_async/channel/impl/channel.hpp: the channel's send and receive protocols.
#ifndef SWEET_ASYNC_CHANNEL_IMPL_CHANNEL_HPP
#define SWEET_ASYNC_CHANNEL_IMPL_CHANNEL_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <optional>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(associated_cancellation_slot)
#include SWEET_ASYNC_ASIO_HEADER(associated_executor)
#include <fmt/format.h>

#include <sweet_async/base/error.hpp>
#include <sweet_async/channel/channel.hpp>

namespace sweet_async {

template <class T>
template <detail::handshake H, class Make>
error_code channel<T>::try_send_as(Make&& make, send_mode mode) {
    const bool closing = mode == send_mode::close_after;
    // Elements waiting aside are older: a send into the ring would overtake them.
    if (area_ && area_->holding()) return send_aside(std::forward<Make>(make), closing);
    detail::push_result pushed{};
    try {
        pushed = queue_.template try_push_with<H>(std::forward<Make>(make), closing);
    } catch (...) {
        // `make` threw after the slot was claimed: the queue published it
        // as a hole (and closed, for a closing send). The consumer must
        // still hear of it, to skip the hole and give its slot back, or
        // to see the end.
        published<detail::handshake::each>(closing);
        throw;
    }
    switch (pushed) {
    case detail::push_result::pushed: published<H>(closing); return {};
    case detail::push_result::full:
        // A closing element is never dropped: under drop_newest it waits.
        if (area_ && !(closing && policy_ == overflow_policy::drop_newest)) {
            return send_aside(std::forward<Make>(make), closing);
        }
        return make_error_code(async_task_error::full);
    case detail::push_result::closed: break;
    }
    return make_error_code(async_task_error::closed);
}

template <class T>
template <class Make>
error_code channel<T>::send_aside(Make&& make, bool closing) {
    if (!area_->accept(std::forward<Make>(make), closing, queue_))
        return make_error_code(async_task_error::closed);
    published<detail::handshake::each>(closing);
    return {};
}

template <class T>
template <detail::handshake H>
void channel<T>::published(bool closing) {
    if (closing) {
        waiters_.wake_consumer();
        waiters_.wake_all_producers();
    } else if (waiters_.consumer_waiting(H == detail::handshake::each
                                             ? std::memory_order_seq_cst
                                             : std::memory_order_relaxed)) {
        // Pairs with the flag store in park_consumer: either the consumer
        // sees the slot or we see that it sleeps. In a run, a flag missed
        // here is seen by fence_sends().
        waiters_.wake_consumer();
    }
}

template <class T>
template <detail::handshake H, class Prepare>
std::optional<T> channel<T>::receive_as(Prepare&& prepare) {
    if (area_ && area_->holding()) {
        return area_->receive(
            queue_, [&] { return pop_ring<detail::handshake::each>(prepare); }, prepare);
    }
    return pop_ring<H>(std::forward<Prepare>(prepare));
}

template <class T>
template <detail::handshake H, class Prepare>
std::optional<T> channel<T>::pop_ring(Prepare&& prepare) {
    const std::size_t before = queue_.popped();
    std::optional<T> value = queue_.template try_pop<H>(std::forward<Prepare>(prepare));
    // A skipped hole frees a slot too. Pairs with the count increment in
    // park_producer: either we see the parked producer or it sees the
    // room. In a run, a count missed here is seen by fence_receives().
    if ((value || queue_.popped() != before) &&
        waiters_.producers_waiting(H == detail::handshake::each ? std::memory_order_seq_cst
                                                                : std::memory_order_relaxed) != 0) {
        wake_producers_for_room();
    }
    return value;
}

template <class T>
std::size_t channel<T>::checked_capacity(std::size_t capacity) {
    if (capacity == 0) {
        throw async_task_exception(async_task_error::invalid_configuration,
                                   "capacity must be at least 1, got 0");
    }
    if (capacity > max_capacity()) {
        throw async_task_exception(
            async_task_error::invalid_configuration,
            fmt::format("capacity must be at most {} for events of {} bytes, got {}",
                        max_capacity(), sizeof(T), capacity));
    }
    return capacity;
}

template <class T>
template <class Handler>
struct channel<T>::send_operation {
    channel* owner;
    T value;
    send_mode mode;
    Handler handler;

    using executor_type = asio::associated_executor_t<Handler, channel::executor_type>;
    executor_type get_executor() const noexcept {
        return asio::get_associated_executor(handler, owner->executor_);
    }
    using cancellation_slot_type = asio::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept {
        return asio::get_associated_cancellation_slot(handler);
    }

    void operator()(error_code ec) {
        if (!ec) {
            ec = owner->try_send_with([this]() -> T&& { return std::move(value); }, mode);
            if (ec == async_task_error::full) {
                owner->park_producer(std::move(*this));
                return;
            }
        }
        std::move(handler)(ec);
    }
};

template <class T>
template <class Handler>
void channel<T>::park_consumer(Handler handler) {
    auto parked = detail::make_waiter(std::move(handler), executor_, [this](detail::waiter* w) {
        waiters_.wake_consumer(w, detail::operation_aborted());
    });
    const detail::waiter* self = parked.get();
    waiters_.park_consumer(std::move(parked));
    // Re-check after publishing the flag: a producer that published before
    // it saw no waiter, so the element (or the end) must be visible here.
    if (ready() || queue_.drained()) waiters_.wake_consumer(self);
}

template <class T>
template <class Handler>
void channel<T>::park_producer(Handler handler) {
    auto parked = detail::make_waiter(std::move(handler), executor_, [this](detail::waiter* w) {
        waiters_.wake_producer(w, detail::operation_aborted());
    });
    const detail::waiter* self = parked.get();
    waiters_.park_producer(std::move(parked));
    if (!queue_.full() || queue_.closed()) waiters_.wake_producer(self);
}

template <class T>
void channel<T>::wake_producers_for_room() {
    const std::size_t capacity = queue_.capacity();
    const std::size_t free = capacity - std::min(capacity, queue_.queued());
    if (free >= wake_room_) waiters_.wake_producers(free);
}

}  // namespace sweet_async

#endif  // SWEET_ASYNC_CHANNEL_IMPL_CHANNEL_HPP
