// sweet_async/receiver/detail/emitting_core.hpp: what producers, the consumer and handles share.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_EMITTING_CORE_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_EMITTING_CORE_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)

#include <sweet_async/base/dead_letter.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/overflow_policy.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/channel/channel.hpp>
#include <sweet_async/channel/detail/outbox.hpp>
#include <sweet_async/channel/detail/task_inlet.hpp>
#include <sweet_async/receiver/detail/task_control.hpp>

namespace sweet_async::detail {

/// Where one task's dead letters go: a function called with each, and,
/// when it hands them to another task, the outbox that waits for its room.
template <class T>
struct dead_letter_route {
    std::function<void(sweet_async::dead_letter<T>&&)> sink;
    std::shared_ptr<outbox_base> box;
};

/// The shared state of one emitting task, but for its final result (see
/// `emitting_state`): its `task_control`, and what depends on what it
/// carries: its inlet (id, channel, events, feeders) and the route of its
/// dead letters. What a sender needs, whatever the task collects.
template <class T, class Id>
class emitting_core : public task_control {
public:
    using event_type = event<T, Id>;

    /// `stamps_creation`: whether the processor or the strategy may read
    /// `event::created()` of non-final events (see `task_inlet::make_event`).
    emitting_core(asio::any_io_executor executor, task_options settings,
                  bool stamps_creation = true)
        : emitting_core(Id::generate(), std::move(executor), std::move(settings), stamps_creation) {
    }

    /// The task's id.
    const Id& id() const noexcept { return inlet_.task_id(); }

    /// Where the task's events come in.
    task_inlet<T, Id>& inlet() noexcept { return inlet_; }
    const task_inlet<T, Id>& inlet() const noexcept { return inlet_; }

    /// The task's channel (its inlet's), for the consumer's side.
    sweet_async::channel<event_type>& channel() noexcept { return inlet_.channel(); }

    /// Sends the task's failed and timed-out events along `route`. Once,
    /// before the consumer starts.
    void route_dead_letters(dead_letter_route<T> route) noexcept {
        dead_letters_ = std::move(route);
    }

    /// Where the ledger hands failed and timed-out events (empty: nowhere).
    const std::function<void(sweet_async::dead_letter<T>&&)>& dead_letter_sink() const noexcept {
        return dead_letters_.sink;
    }

    /// When dead letters go to another task, the outbox that waits for its
    /// room (the consumer manages it); else null.
    const std::shared_ptr<outbox_base>& dead_letter_box() const noexcept {
        return dead_letters_.box;
    }

private:
    emitting_core(Id task_id, asio::any_io_executor executor, task_options settings,
                  bool stamps_creation)
        : task_control(std::move(executor), std::move(settings), task_id.to_string()),
          inlet_(std::move(task_id), this->executor, options.capacity, stamps_creation) {
        if (options.overflow != overflow_policy::wait) {
            inlet_.channel().set_overflow(options.overflow,
                                          [this](event_type&& e) { drops().add(e.id()); });
        }
    }

    void close_channel() override { inlet_.channel().close(); }
    void abandon_channel() noexcept override { inlet_.channel().abandon(); }
    std::size_t sent() const noexcept override { return inlet_.channel().sent(); }

    task_inlet<T, Id> inlet_;
    dead_letter_route<T> dead_letters_;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_EMITTING_CORE_HPP
