// sweet_async/base/event.hpp: one item of an event stream, with its identity and timings.
#ifndef SWEET_ASYNC_BASE_EVENT_HPP
#define SWEET_ASYNC_BASE_EVENT_HPP

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/uuid.hpp>

namespace sweet_async {

/// The clock of event timestamps (wall-clock time, so they can be shown).
using event_clock = std::chrono::system_clock;

namespace detail {
struct event_access;

/// A string kept out of line, for a member that is almost always empty: a
/// pointer wide, and moved by taking the pointer, where `std::string` is four
/// pointers wide and its move copies a short string's bytes. Copies copy the
/// text.
class rare_string {
public:
    rare_string() noexcept = default;
    rare_string(const rare_string& other)
        : text_(other.text_ ? std::make_unique<std::string>(*other.text_) : nullptr) {}
    rare_string(rare_string&&) noexcept = default;
    rare_string& operator=(const rare_string& other) {
        if (this != &other) *this = rare_string(other);
        return *this;
    }
    rare_string& operator=(rare_string&&) noexcept = default;
    ~rare_string() = default;

    /// Keeps `text` (nothing, when it is empty).
    rare_string& operator=(std::string text) {
        text_ = text.empty() ? nullptr : std::make_unique<std::string>(std::move(text));
        return *this;
    }

    const std::string& get() const noexcept {
        static const std::string empty;
        return text_ ? *text_ : empty;
    }

private:
    std::unique_ptr<std::string> text_;
};

}  // namespace detail

template <class T, task_id Id>
class event_builder;

/// An event: a payload of type `T` sent into the task identified by `Id`.
///
/// It has its own random id, the time it was created (sent), and once
/// processed, the times its processing really started and completed. It is
/// move-only when `T` is.
template <class T, task_id Id = uuid>
class event {
public:
    using payload_type = T;                      ///< What the event carries.
    using task_id_type = Id;                     ///< The identifier type of its task.
    using time_point = event_clock::time_point;  ///< The type of its timestamps.

    /// An event of `task` carrying `payload`, created now with a fresh id.
    event(Id task, T payload, streaming_event_type type = streaming_event_type::continuing)
        : id_(uuid::generate()),
          task_id_(std::move(task)),
          payload_(std::move(payload)),
          created_(event_clock::now()),
          type_(type) {}

    /// Starts a builder; the payload is always required.
    static event_builder<T, Id> builder(Id task, T payload) {
        return event_builder<T, Id>(std::move(task), std::move(payload));
    }

    /// This event's unique id; results are collected under it.
    const uuid& id() const noexcept { return id_; }
    /// The id of the task the event belongs to.
    const Id& task_id() const noexcept { return task_id_; }

    /// The data the producer sent.
    const T& payload() const& noexcept { return payload_; }
    /// The data the producer sent, modifiable in place.
    T& payload() & noexcept { return payload_; }
    /// Moves the payload out of an expiring event.
    T&& payload() && noexcept { return std::move(payload_); }

    /// What the event means to the stream (`continuing` for all but the last).
    streaming_event_type type() const noexcept { return type_; }
    /// True for the event that ends the stream (final, error or cancellation).
    bool is_final() const noexcept { return sweet_async::is_final(type_); }
    /// The event's 0-based position among the events its task accepted, in
    /// arrival order (0 for events that were never sent through a task).
    std::uint64_t sequence() const noexcept { return sequence_; }

    /// The producer's message of an `streaming_event_type::error` event; empty otherwise.
    const std::string& error_message() const noexcept { return error_message_.get(); }

    /// When the event was made (for sent events: when it was sent). A task
    /// whose processor and strategy never read it does not take it for its
    /// non-final events (they carry the clock's epoch): nobody can see them.
    time_point created() const noexcept { return created_; }
    /// When processing started; empty until it has.
    const std::optional<time_point>& started() const noexcept { return started_; }
    /// When processing ended (in any outcome); empty until it has.
    const std::optional<time_point>& completed() const noexcept { return completed_; }

private:
    friend class event_builder<T, Id>;
    friend struct detail::event_access;

    struct unstamped {};
    event(unstamped, Id task, T payload, streaming_event_type type)
        : event(unstamped{}, uuid::generate(), std::move(task), std::move(payload), type) {}
    event(unstamped, const uuid& id, Id task, T payload, streaming_event_type type)
        : id_(id),
          task_id_(std::move(task)),
          payload_(std::move(payload)),
          type_(type) {}

    uuid id_;
    Id task_id_;
    T payload_;
    time_point created_;
    std::optional<time_point> started_;
    std::optional<time_point> completed_;
    std::uint64_t sequence_ = 0;
    streaming_event_type type_;
    // Out of line: only error events have one, and every event moves several times.
    detail::rare_string error_message_;
};

/// Builds an `event` step by step. It starts from the two things every event
/// needs, its task and its payload, so no event can exist without a payload.
/// Each step consumes the builder: `event<T>::builder(id, p).final().build()`.
template <class T, task_id Id = uuid>
class event_builder {
public:
    /// A builder of a `continuing` event of `task` carrying `payload`, created now.
    event_builder(Id task, T payload) : event_(std::move(task), std::move(payload)) {}

    /// Uses `id` instead of a fresh random id.
    event_builder id(const uuid& id) && {
        event_.id_ = id;
        return std::move(*this);
    }
    /// Replaces the payload.
    event_builder payload(T payload) && {
        event_.payload_ = std::move(payload);
        return std::move(*this);
    }
    /// Sets the kind of the event (default `continuing`).
    event_builder type(streaming_event_type type) && {
        event_.type_ = type;
        return std::move(*this);
    }
    /// Marks the event as the last of its stream.
    event_builder final() && { return std::move(*this).type(streaming_event_type::final); }
    // `message` is moved from; clang-tidy 14 misses the move in this template.
    /// Makes an error event carrying the producer's `message`; it ends the stream.
    event_builder error(std::string message) && {  // NOLINT(performance-unnecessary-value-param)
        event_.error_message_ = std::move(message);
        return std::move(*this).type(streaming_event_type::error);
    }
    /// Makes a cancellation event; it ends the stream.
    event_builder cancellation() && {
        return std::move(*this).type(streaming_event_type::cancellation);
    }
    /// Sets the creation time (default: when the builder was made).
    event_builder created(event_clock::time_point when) && {
        event_.created_ = when;
        return std::move(*this);
    }

    /// The finished event; the builder is spent.
    event<T, Id> build() && { return std::move(event_); }

private:
    event<T, Id> event_;
};

namespace detail {

/// The library's access to an event's processing timestamps.
struct event_access {
    /// An event like `event(task, payload, type)`, without reading the clock.
    template <class T, class Id>
    static event<T, Id> unstamped(Id task, T payload, streaming_event_type type) {
        return event<T, Id>(typename event<T, Id>::unstamped{}, std::move(task), std::move(payload),
                            type);
    }
    /// An event with the id `id` (one a previous stage gave it), created now
    /// if `stamped`.
    template <class T, class Id>
    static event<T, Id> with_id(const uuid& id, Id task, T payload, streaming_event_type type,
                                bool stamped) {
        event<T, Id> e(typename event<T, Id>::unstamped{}, id, std::move(task), std::move(payload),
                       type);
        if (stamped) e.created_ = event_clock::now();
        return e;
    }
    template <class T, class Id>
    static void set_sequence(event<T, Id>& e, std::uint64_t sequence) noexcept {
        e.sequence_ = sequence;
    }
    template <class T, class Id>
    static void mark_started(event<T, Id>& e, event_clock::time_point when) noexcept {
        e.started_ = when;
    }
    template <class T, class Id>
    static void mark_completed(event<T, Id>& e, event_clock::time_point when) noexcept {
        e.completed_ = when;
    }
};

}  // namespace detail
}  // namespace sweet_async

/// "event{id=<uuid>, task=<task id>, type=final}", with ", payload=..." before the
/// closing brace when `T` is formattable and ", error=\"...\"" for an error event.
template <class T, class Id>
struct fmt::formatter<sweet_async::event<T, Id>> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::event<T, Id>& e, fmt::format_context& ctx) const {
        std::string text = fmt::format("event{{id={}, task={}, type={}", e.id(),
                                       e.task_id().to_string(), e.type());
        if constexpr (fmt::is_formattable<T>::value)
            text += fmt::format(", payload={}", e.payload());
        if (!e.error_message().empty()) text += fmt::format(", error=\"{}\"", e.error_message());
        text += '}';
        return sweet_async::detail::write_text(ctx, text);
    }
};

#endif  // SWEET_ASYNC_BASE_EVENT_HPP
