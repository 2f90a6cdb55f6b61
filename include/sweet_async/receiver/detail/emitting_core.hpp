// sweet_async/receiver/detail/emitting_core.hpp: what producers, the consumer and handles share.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_EMITTING_CORE_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_EMITTING_CORE_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include <asio/any_io_executor.hpp>

#include <sweet_async/base/dead_letter.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/overflow_policy.hpp>
#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/channel/channel.hpp>
#include <sweet_async/channel/detail/outbox.hpp>
#include <sweet_async/receiver/detail/task_control.hpp>

namespace sweet_async::detail {

/// The shared state of one emitting task, but for its final result (see
/// `emitting_state`): its `task_control`, and what depends on what it
/// carries: its id, its channel, how it makes events, and where its dead
/// letters go. What a sender needs, whatever the task collects.
template <class T, class Id>
class emitting_core : public task_control {
public:
    using event_type = event<T, Id>;

    /// `stamps_creation`: whether the processor or the strategy may read
    /// `event::created()` of non-final events (see `make_event`).
    emitting_core(asio::any_io_executor executor, task_options settings,
                  bool stamps_creation = true)
        : emitting_core(Id::generate(), std::move(executor), std::move(settings), stamps_creation) {
    }

    const bool stamps_creation;
    const Id id;
    sweet_async::channel<event_type> channel;

    /// Where the ledger hands failed and timed-out events (empty: nowhere),
    /// and, when that is another task, the outbox that waits for its room.
    /// Set before the consumer starts; the consumer's from then on.
    std::function<void(sweet_async::dead_letter<T>&&)> dead_letter_sink;
    std::shared_ptr<outbox_base> dead_letter_box;
    /// How many linked tasks feed this one and have not ended (fan-in): the
    /// last to end ends this task's stream. Counted when they start.
    std::atomic<std::size_t> feeders{0};

    /// A new event of this task. The creation time is taken only where it
    /// can be read: a final event is handed back in the result.
    event_type make_event(T payload, sweet_async::streaming_event_type type) const {
        if (stamps_creation || sweet_async::is_final(type))
            return event_type(id, std::move(payload), type);
        return event_access::unstamped(id, std::move(payload), type);
    }

    /// A new event of this task that keeps the id `id` a previous stage of a
    /// flow gave it, so that one event can be followed through the flow.
    event_type make_event(T payload, sweet_async::streaming_event_type type, const uuid& id) const {
        return event_access::with_id(id, this->id, std::move(payload), type,
                                     stamps_creation || sweet_async::is_final(type));
    }

private:
    emitting_core(Id task_id, asio::any_io_executor executor, task_options settings,
                  bool stamps_creation)
        : task_control(std::move(executor), std::move(settings), task_id.to_string()),
          stamps_creation(stamps_creation),
          id(std::move(task_id)),
          channel(this->executor, options.capacity) {
        if (options.overflow != overflow_policy::wait) {
            channel.set_overflow(options.overflow, [this](event_type&& e) { drops().add(e.id()); });
        }
    }

    void close_channel() override { channel.close(); }
    void abandon_channel() noexcept override { channel.abandon(); }
    std::size_t sent() const noexcept override { return channel.sent(); }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_EMITTING_CORE_HPP
