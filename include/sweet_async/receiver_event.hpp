// sweet_async/receiver_event.hpp: what a processor sees of the event it handles.
#ifndef SWEET_ASYNC_RECEIVER_EVENT_HPP
#define SWEET_ASYNC_RECEIVER_EVENT_HPP

#include <fmt/format.h>

#include <sweet_async/detail/plain_formatter.hpp>
#include <sweet_async/event.hpp>

namespace sweet_async {

/// A read-only view of the event being processed, for processors that need
/// more than the payload: `[](sa::receiver_event<T> e) { ... e.id() ... }`.
/// It is valid for the duration of the processor call.
template <class T, task_id Id = uuid>
class receiver_event {
public:
    explicit receiver_event(const event<T, Id>& e) noexcept : event_(&e) {}

    const uuid& id() const noexcept { return event_->id(); }
    const Id& task_id() const noexcept { return event_->task_id(); }
    const T& payload() const noexcept { return event_->payload(); }
    event_type type() const noexcept { return event_->type(); }
    bool is_final() const noexcept { return event_->is_final(); }
    event_clock::time_point created() const noexcept { return event_->created(); }
    /// The whole event.
    const event<T, Id>& inner() const noexcept { return *event_; }

private:
    const event<T, Id>* event_;
};

}  // namespace sweet_async

/// Formats like the event it views.
template <class T, class Id>
struct fmt::formatter<sweet_async::receiver_event<T, Id>> : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::receiver_event<T, Id>& e, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "{}", e.inner());
    }
};

#endif  // SWEET_ASYNC_RECEIVER_EVENT_HPP
