// sweet_async/task/pulled_event.hpp: an event a stream processor took, until it gives the outcome.
#ifndef SWEET_ASYNC_TASK_PULLED_EVENT_HPP
#define SWEET_ASYNC_TASK_PULLED_EVENT_HPP

#include <sweet_async/config.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <sweet_async/base/event.hpp>
#include <sweet_async/base/uuid.hpp>

namespace sweet_async {

template <class T, class R, task_id Id>
class event_stream;

/// An event a stream processor took from its `event_stream`, owed exactly one
/// outcome. The processor gives it by calling one of
/// - `complete(result)`: processed, `result` goes to the collector under the
///   event's id (`complete()` for a stream without results, `R =
///   std::monostate`);
/// - `complete_without_result()`: processed, nothing collected (an event that
///   only fed a window or a session whose result another event carries);
/// - `fail(reason)`: failed; while the task's retries last, the event comes
///   back from `next()` after the backoff, with `attempt()` one higher.
///
/// A pulled event destroyed without an outcome ends failed ("released
/// without an outcome"), or, when the stream processor threw, failed with
/// "the stream processor threw: <its exception's message>", or cancelled
/// ("interrupted: <why>") when a stop interrupted it: it is
/// never lost. Move-only; it belongs to the stream processor's coroutine
/// (and the coroutines it awaits), on the task's consumer strand, and must
/// not outlive it: the task ends only once every pulled event has its
/// outcome.
template <class T, class R = std::monostate, task_id Id = uuid>
class pulled_event {
public:
    using event_type = event<T, Id>;  ///< What it holds.
    using result_type = R;            ///< What `complete` collects.

    /// Takes over `other`'s event and its debt of an outcome.
    pulled_event(pulled_event&& other) noexcept
        : stream_(std::exchange(other.stream_, nullptr)),
          event_(std::move(other.event_)),
          attempt_(other.attempt_) {}

    /// Releases the event this one held (see the class comment), then takes `other`'s.
    pulled_event& operator=(pulled_event&& other) noexcept {
        if (this != &other) {
            release();
            stream_ = std::exchange(other.stream_, nullptr);
            event_ = std::move(other.event_);
            attempt_ = other.attempt_;
        }
        return *this;
    }

    pulled_event(const pulled_event&) = delete;
    pulled_event& operator=(const pulled_event&) = delete;

    /// Releases the event if no outcome was given (see the class comment).
    ~pulled_event() { release(); }

    /// True until an outcome is given.
    bool pending() const noexcept { return stream_ != nullptr; }
    /// `pending()`, for `if (event)`.
    explicit operator bool() const noexcept { return pending(); }

    /// What the event carries. Pending only.
    const T& payload() const { return get().payload(); }
    /// What the event carries, to change or move from. Pending only.
    T& payload() { return held().payload(); }

    /// The whole event: its id, sequence, kind, creation time. Pending only.
    const event_type& get() const {
        if (!pending()) throw used_after_outcome();
        return event_;
    }

    /// The event's id, under which its result is collected. Pending only.
    const uuid& id() const { return get().id(); }
    /// Its arrival index in the task. Pending only.
    std::uint64_t sequence() const { return get().sequence(); }
    /// True for the event `send_final` sent. Pending only.
    bool is_final() const { return get().is_final(); }
    /// 1 the first time the event is pulled, one more on each retry.
    unsigned attempt() const noexcept { return attempt_; }

    /// Ends the event processed, `result` collected under its id.
    void complete(R result);
    /// Ends the event processed, for a stream without results.
    void complete() requires std::is_same_v<R, std::monostate> { complete(std::monostate{}); }
    /// Ends the event processed, with nothing collected.
    void complete_without_result();
    /// Ends this attempt failed for `reason`: the event is retried after the
    /// backoff while the task's retries last (and it is not stopping), and
    /// ends failed otherwise.
    void fail(std::string reason);

private:
    friend class event_stream<T, R, Id>;

    pulled_event(event_stream<T, R, Id>& stream, event_type&& e, unsigned attempt) noexcept
        : stream_(&stream),
          event_(std::move(e)),
          attempt_(attempt) {}

    event_type& held() {
        if (!pending()) throw used_after_outcome();
        return event_;
    }

    /// Hands the event back to its stream with no outcome given, if pending.
    void release() noexcept;

    static std::logic_error used_after_outcome() {
        return std::logic_error("sweet_async: a pulled_event was used after its outcome was given");
    }

    event_stream<T, R, Id>* stream_;  // null once the outcome is given
    event_type event_;
    unsigned attempt_;
};

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_PULLED_EVENT_HPP
