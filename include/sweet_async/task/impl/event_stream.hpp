// sweet_async/task/impl/event_stream.hpp: how pulled events reach their outcome.
#ifndef SWEET_ASYNC_TASK_IMPL_EVENT_STREAM_HPP
#define SWEET_ASYNC_TASK_IMPL_EVENT_STREAM_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)

#include <sweet_async/base/detail/retry_policy.hpp>
#include <sweet_async/task/event_stream.hpp>

namespace sweet_async {

// ----- pulled_event ------------------------------------------------------------------------

template <class T, class R, task_id Id>
void pulled_event<T, R, Id>::complete(R result) {
    held();
    std::exchange(stream_, nullptr)->completed(std::move(event_), std::move(result));
}

template <class T, class R, task_id Id>
void pulled_event<T, R, Id>::complete_without_result() {
    held();
    std::exchange(stream_, nullptr)->completed_without_result(std::move(event_));
}

template <class T, class R, task_id Id>
void pulled_event<T, R, Id>::fail(std::string reason) {
    held();
    std::exchange(stream_, nullptr)->failed(std::move(event_), attempt_, std::move(reason));
}

template <class T, class R, task_id Id>
void pulled_event<T, R, Id>::release() noexcept {
    if (stream_ != nullptr) std::exchange(stream_, nullptr)->release(std::move(event_), attempt_);
}

// ----- event_stream ------------------------------------------------------------------------

namespace detail {

/// Orders the retry heap so that its front is the earliest due, ties by arrival.
struct later {
    template <class Retry>
    bool operator()(const Retry& a, const Retry& b) const noexcept {
        if (a.due != b.due) return a.due > b.due;
        return a.e.sequence() > b.e.sequence();
    }
};

}  // namespace detail

template <class T, class R, task_id Id>
asio::awaitable<std::optional<pulled_event<T, R, Id>>> event_stream<T, R, Id>::next() {
    for (;;) {
        if (auto pulled = try_next()) co_return pulled;
        if (stopping() || ended()) co_return std::nullopt;
        if (retries_.empty()) {
            co_await source_.wait_for_events();
        } else if (!source_.ended()) {
            co_await source_.wait_for_events_until(retries_.front().due);
        } else {
            // Only retries are left: the channel has nothing to wake us for.
            wake_.expires_at(retries_.front().due);
            error_code ignored;
            co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        }
    }
}

template <class T, class R, task_id Id>
std::optional<pulled_event<T, R, Id>> event_stream<T, R, Id>::try_next() {
    record_released(outcome::failed, "the stream processor released it without an outcome");
    if (stopping()) return std::nullopt;
    if (!retries_.empty() && retries_.front().due <= clock::now()) {
        std::pop_heap(retries_.begin(), retries_.end(), detail::later{});
        retry due = std::move(retries_.back());
        retries_.pop_back();
        outcomes_.retrying();
        return hand_out(std::move(due.e), due.attempts + 1);
    }
    if (auto e = source_.try_receive()) return hand_out(std::move(*e), 1);
    return std::nullopt;
}

template <class T, class R, task_id Id>
pulled_event<T, R, Id> event_stream<T, R, Id>::hand_out(event_type&& e, unsigned attempt) {
    // Room for every pending event to be released, made here where an
    // allocation failure can reach the caller, so `release` never allocates.
    released_.reserve(released_.size() + pending_ + 1);
    if (e.is_final() && attempt == 1) detail::event_access::mark_started(e, event_clock::now());
    ++pending_;
    return pulled_type(*this, std::move(e), attempt);
}

template <class T, class R, task_id Id>
void event_stream<T, R, Id>::completed(event_type&& e, R&& result) {
    end_pending();
    if (e.is_final()) detail::event_access::mark_completed(e, event_clock::now());
    outcomes_.processed(std::move(e), std::move(result));
}

template <class T, class R, task_id Id>
void event_stream<T, R, Id>::completed_without_result(event_type&& e) {
    end_pending();
    if (e.is_final()) detail::event_access::mark_completed(e, event_clock::now());
    outcomes_.processed_without_result(std::move(e));
}

template <class T, class R, task_id Id>
void event_stream<T, R, Id>::failed(event_type&& e, unsigned attempt, std::string reason) {
    end_pending();
    if (const auto wait = detail::retry_after(options_, attempt, stopping() || settling_)) {
        retries_.push_back(retry{clock::now() + *wait, std::move(e), attempt});
        std::push_heap(retries_.begin(), retries_.end(), detail::later{});
        return;
    }
    if (e.is_final()) detail::event_access::mark_completed(e, event_clock::now());
    outcomes_.unprocessed(std::move(e), outcome::failed, std::move(reason), attempt);
}

template <class T, class R, task_id Id>
// NOLINTNEXTLINE(bugprone-exception-escape): the room was reserved in `hand_out`, so only a
// payload whose move throws can throw here, and a destructor cannot pass that on.
void event_stream<T, R, Id>::release(event_type&& e, unsigned attempt) noexcept {
    released_.push_back(released{std::move(e), attempt});
    end_pending();
}

template <class T, class R, task_id Id>
void event_stream<T, R, Id>::end_pending() noexcept {
    --pending_;
    if (settling_ && pending_ == 0) {
        try {
            wake_.cancel();
        } catch (...) {  // Asio reports no error for a timer's cancel; were it to, `settle`
        }                // would still see `pending_` at its next look
    }
}

template <class T, class R, task_id Id>
void event_stream<T, R, Id>::record_released(outcome kind, const std::string& reason) {
    for (auto& r : released_) {
        if (r.e.is_final()) detail::event_access::mark_completed(r.e, event_clock::now());
        outcomes_.unprocessed(std::move(r.e), kind, reason, r.attempts);
    }
    released_.clear();
}

template <class T, class R, task_id Id>
asio::awaitable<void> event_stream<T, R, Id>::settle(outcome released_kind,
                                                     std::string released_reason,
                                                     std::string retry_reason) {
    settling_ = true;  // no more retries: a pulled event failing from now on ends failed
    while (pending_ != 0) {
        // Woken by the last pending event's outcome, and looks again now and then regardless.
        wake_.expires_after(std::chrono::milliseconds(100));
        error_code woken;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
    }
    record_released(released_kind, released_reason);
    for (auto& r : retries_)
        outcomes_.unprocessed(std::move(r.e), outcome::cancelled, retry_reason, r.attempts);
    retries_.clear();
}

template <class T, class R, task_id Id>
asio::awaitable<void> event_stream<T, R, Id>::cancel_unpulled(const std::string& reason) {
    source_.close();
    source_.receive_freely();  // what it cancels sends nothing downstream, at once
    for (;;) {
        while (auto e = source_.try_receive()) {
            if (e->is_final()) detail::event_access::mark_completed(*e, event_clock::now());
            outcomes_.unprocessed(std::move(*e), outcome::cancelled, reason, 0);
        }
        if (!co_await source_.wait_for_events()) co_return;
    }
}

}  // namespace sweet_async

#endif  // SWEET_ASYNC_TASK_IMPL_EVENT_STREAM_HPP
