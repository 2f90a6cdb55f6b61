// sweet_async/channel/detail/task_inlet.hpp: where a task's events come in.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_TASK_INLET_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_TASK_INLET_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cstddef>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)

#include <sweet_async/base/event.hpp>
#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/channel/channel.hpp>

namespace sweet_async::detail {

/// How many linked tasks feed one task and have not ended (fan-in): the
/// last of them to end ends the task's stream.
class feeder_count {
public:
    /// A linked task starts feeding this one. Counted when the feeder starts,
    /// before any of its events flow.
    void join() noexcept {
        // Relaxed: the count only decides who ends the task, and each
        // feeder's end is a read-modify-write on the same counter.
        feeders_.fetch_add(1, std::memory_order_relaxed);
    }

    /// A feeder has ended; true when it was the last.
    bool leave() noexcept {
        // acq_rel: the last feeder's close follows every other feeder's sends.
        return feeders_.fetch_sub(1, std::memory_order_acq_rel) == 1;
    }

    /// True while a linked task that has not ended feeds this one.
    bool fed() const noexcept {
        // Relaxed: a snapshot; a feeder that ends meanwhile ends the task itself.
        return feeders_.load(std::memory_order_relaxed) != 0;
    }

private:
    std::atomic<std::size_t> feeders_{0};
};

/// The receiving end of one task as its writers see it: the task's id, its
/// channel, how an event of the task is made, and the linked tasks feeding
/// it. Senders, emitters and the outboxes of linked tasks write through it;
/// what the task does with its events is above it.
template <class T, class Id>
class task_inlet : public feeder_count {
public:
    using event_type = event<T, Id>;  ///< What its channel carries.

    /// `stamps_creation`: whether the processor or the strategy may read
    /// `event::created()` of non-final events (see `make_event`).
    task_inlet(Id task_id, const asio::any_io_executor& executor, std::size_t capacity,
               bool stamps_creation)
        : task_id_(std::move(task_id)),
          stamps_creation_(stamps_creation),
          channel_(executor, capacity) {}

    task_inlet(const task_inlet&) = delete;
    task_inlet& operator=(const task_inlet&) = delete;

    /// The id of the task.
    const Id& task_id() const noexcept { return task_id_; }

    /// The task's channel.
    sweet_async::channel<event_type>& channel() noexcept { return channel_; }
    const sweet_async::channel<event_type>& channel() const noexcept { return channel_; }

    /// A new event of this task. The creation time is taken only where it
    /// can be read: a final event is handed back in the result.
    event_type make_event(T payload, streaming_event_type type) const {
        if (stamps_creation_ || is_final(type))
            return event_type(task_id_, std::move(payload), type);
        return event_access::unstamped(task_id_, std::move(payload), type);
    }

    /// A new event of this task that keeps the id `id` a previous stage of a
    /// flow gave it, so that one event can be followed through the flow.
    event_type make_event(T payload, streaming_event_type type, const uuid& id) const {
        return event_access::with_id(id, task_id_, std::move(payload), type,
                                     stamps_creation_ || is_final(type));
    }

private:
    const Id task_id_;
    const bool stamps_creation_;
    sweet_async::channel<event_type> channel_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_TASK_INLET_HPP
