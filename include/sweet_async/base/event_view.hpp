// sweet_async/base/event_view.hpp: what a processor sees of the event it handles.
#ifndef SWEET_ASYNC_BASE_EVENT_VIEW_HPP
#define SWEET_ASYNC_BASE_EVENT_VIEW_HPP

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/event.hpp>

namespace sweet_async {

/// A read-only view of the event being processed, for processors that need
/// more than the payload: `[](sa::event_view<T> e) { ... e.id() ... }`.
/// It is valid for the duration of the processor call.
template <class T, task_id Id = uuid>
class event_view {
public:
    /// A view of `e`, which must outlive it.
    explicit event_view(const event<T, Id>& e) noexcept : event_(&e) {}

    /// The event's unique id; its result is collected under it.
    const uuid& id() const noexcept { return event_->id(); }
    /// The id of the task the event belongs to.
    const Id& task_id() const noexcept { return event_->task_id(); }
    /// The data the producer sent.
    const T& payload() const noexcept { return event_->payload(); }
    /// What the event means to the stream.
    streaming_event_type type() const noexcept { return event_->type(); }
    /// True for the event that ends the stream (final, error or cancellation).
    bool is_final() const noexcept { return event_->is_final(); }
    /// When the event was sent (see `event::created()`).
    event_clock::time_point created() const noexcept { return event_->created(); }
    /// The whole event.
    const event<T, Id>& inner() const noexcept { return *event_; }

private:
    const event<T, Id>* event_;
};

}  // namespace sweet_async

/// Formats like the event it views.
template <class T, class Id>
struct fmt::formatter<sweet_async::event_view<T, Id>> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::event_view<T, Id>& e, fmt::format_context& ctx) const {
        return fmt::formatter<sweet_async::event<T, Id>>().format(e.inner(), ctx);
    }
};

#endif  // SWEET_ASYNC_BASE_EVENT_VIEW_HPP
