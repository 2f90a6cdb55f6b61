// sweet_async/receiver/detail/in_flight_scope.hpp: the work a receiver started and must see finish.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_IN_FLIGHT_SCOPE_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_IN_FLIGHT_SCOPE_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(cancellation_type)
#include SWEET_ASYNC_ASIO_HEADER(executor_work_guard)
#include SWEET_ASYNC_ASIO_HEADER(redirect_error)
#include SWEET_ASYNC_ASIO_HEADER(steady_timer)
#include SWEET_ASYNC_ASIO_HEADER(this_coro)
#include SWEET_ASYNC_ASIO_HEADER(use_awaitable)

#include <sweet_async/base/detail/interrupt_registry.hpp>
#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/receiver/detail/task_control.hpp>

namespace sweet_async::detail {

/// The work a receiver has in flight, in the manner of libunifex's
/// `async_scope`: the receiver counts what it starts (`started`), the work
/// hands each result back through the scope's `inbox` from whatever thread it
/// ran on, and the receiver waits for room or for everything (`wait_below(1)`).
///
/// Results are recorded by `Record` (called with each `Finished`) on the
/// consumer strand, in batches: a result arriving while an earlier one waits
/// to be recorded costs no executor hop of its own. The inbox, shared with the
/// work, is the only thing the work touches; it posts to the consumer strand
/// through the task's state, which refuses once the context is gone, and it
/// reaches the scope through a pointer that the scope clears when it goes.
///
/// While anything is in flight the scope holds work on the task's executor:
/// its context cannot run out of work (`io_context::run` returning) while a
/// result is still to come from another one.
///
/// It owns interruption too: coroutines it runs `enter` its registry, and a
/// stop request the task's state passes on (the inbox listens for it)
/// interrupts every one still running, from the request `interrupts_from`
/// on: `immediate` for processing (a graceful stop lets it finish),
/// `graceful` for producing.
/// The count of an `in_flight_scope`, and what does not depend on what its
/// work hands back: the room it waits for, the work guard, the interruptions.
/// Compiled once per file, not once per kind of scope.
class in_flight_count {
public:
    virtual ~in_flight_count() = default;
    in_flight_count(const in_flight_count&) = delete;
    in_flight_count& operator=(const in_flight_count&) = delete;

    /// Counts `units` of work that will hand their results to the inbox.
    void started(std::size_t units = 1) {
        if (units == 0) return;
        if (size_ == 0) keep_running_.emplace(executor_);
        size_ += units;
    }

    /// Counts `units` that ended without a delivery (recorded where they ran).
    void ended(std::size_t units = 1) {
        size_ -= units;
        if (size_ == 0) keep_running_.reset();
        if (waiting_) room_.cancel();
    }

    /// Registers a coroutine that will run on `strand`, to be interrupted on
    /// a stop request until it `leave`s.
    std::shared_ptr<interruptible> enter(asio::any_io_executor strand) {
        return interrupts_.enter(std::move(strand));
    }

    /// Forgets `entry`: its coroutine has ended.
    void leave(interruptible& entry) { interrupts_.leave(entry); }

    /// Interrupts every coroutine registered now, as a stop request would.
    void interrupt_all() { interrupts_.interrupt_all(); }

    /// The units in flight.
    std::size_t size() const noexcept { return size_; }

    /// Suspends until fewer than `limit` units are in flight, or the wait is
    /// cancelled (per-operation cancellation, as `||` of Asio's awaitable
    /// operators delivers). Records what has arrived first, so it does not
    /// suspend when that makes room.
    asio::awaitable<void> wait_below(std::size_t limit);

protected:
    explicit in_flight_count(const task_control& task)
        : executor_(task.executor),
          room_(task.consumer_executor()) {}

    /// Consumer strand: records every result that has arrived.
    virtual void record_arrived() = 0;

private:
    asio::any_io_executor executor_;
    std::optional<asio::executor_work_guard<asio::any_io_executor>> keep_running_;
    std::size_t size_ = 0;
    bool waiting_ = false;
    asio::steady_timer room_;  // cancelled to wake wait_below
    interrupt_registry interrupts_;
};

inline asio::awaitable<void> in_flight_count::wait_below(std::size_t limit) {
    record_arrived();
    while (size_ >= limit) {
        waiting_ = true;
        room_.expires_at(std::chrono::steady_clock::time_point::max());
        error_code woken;
        co_await room_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
        waiting_ = false;
        record_arrived();
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) co_return;
    }
}

template <class Finished, class Record>
class in_flight_scope final : public in_flight_count {
public:
    /// The hand-back point shared with the work in flight. Thread-safe.
    class inbox final : public stop_listener {
    public:
        inbox(std::shared_ptr<task_control> task, stop_request interrupts_from)
            : task_(std::move(task)),
              interrupts_from_(interrupts_from) {}

        /// Consumer strand (see `task_control::listen_for_stop`).
        void stop_requested(stop_request request) override {
            if (scope_ != nullptr && request >= interrupts_from_) scope_->interrupt_all();
        }

        /// Hands back one finished piece of work (`units` of the scope's count)
        /// from any thread.
        void deliver(Finished&& finished, std::size_t units = 1) {
            bool post = false;
            {
                std::lock_guard lock(mutex_);
                arrived_.push_back(std::move(finished));
                post = arrived(units);
            }
            if (post) post_drain();
        }

        /// Hands back several results of one piece of work (`units` of the
        /// scope's count) at once, from any thread; leaves `batch` empty.
        void deliver_all(std::vector<Finished>& batch, std::size_t units = 1) {
            bool post = false;
            {
                std::lock_guard lock(mutex_);
                if (arrived_.empty()) {
                    arrived_.swap(batch);
                } else {
                    for (auto& finished : batch)
                        arrived_.push_back(std::move(finished));
                }
                post = arrived(units);
            }
            batch.clear();
            if (post) post_drain();
        }

    private:
        friend class in_flight_scope;

        /// Under the mutex: counts `units` arrived; true when a drain must be posted.
        bool arrived(std::size_t units) {
            arrived_units_ += units;
            return !std::exchange(drain_posted_, true);
        }

        void post_drain() {
            // One drain serves everything delivered until it runs. The state
            // refuses to post once its context is gone; what was delivered
            // then goes with this inbox, like the context's own handlers.
            task_->post_to_consumer([self = self_.lock()] { self->drain(); });
        }

        /// Consumer strand.
        void drain() {
            if (scope_ != nullptr) scope_->record_arrived();
        }

        /// Takes what arrived into `into` (whose old contents were recorded).
        std::size_t take(std::vector<Finished>& into) {
            std::lock_guard lock(mutex_);
            into.swap(arrived_);
            drain_posted_ = false;
            return std::exchange(arrived_units_, 0);
        }

        const std::shared_ptr<task_control> task_;
        const stop_request interrupts_from_;
        std::weak_ptr<inbox> self_;
        in_flight_scope* scope_ = nullptr;  // read and written on the consumer strand only
        std::mutex mutex_;                  // guards the members below
        std::vector<Finished> arrived_;
        std::size_t arrived_units_ = 0;
        bool drain_posted_ = false;
    };

    in_flight_scope(std::shared_ptr<task_control> task, Record record,
                    stop_request interrupts_from = stop_request::immediate)
        : in_flight_count(*task),
          record_(std::move(record)),
          inbox_(std::make_shared<inbox>(task, interrupts_from)) {
        inbox_->self_ = inbox_;
        inbox_->scope_ = this;
        task->listen_for_stop(inbox_);
    }

    /// On the consumer strand, or while its context is being destroyed (no
    /// handler runs then): a drain still queued finds no scope.
    ~in_flight_scope() override { inbox_->scope_ = nullptr; }

    /// What the work hands back through.
    const std::shared_ptr<inbox>& handoff() const noexcept { return inbox_; }

private:
    void record_arrived() override {
        const std::size_t units = inbox_->take(recording_);
        for (auto& finished : recording_)
            record_(std::move(finished));
        recording_.clear();
        if (units != 0) ended(units);
    }

    Record record_;
    std::shared_ptr<inbox> inbox_;
    std::vector<Finished> recording_;  // swapped with the inbox's, so both keep their capacity
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_IN_FLIGHT_SCOPE_HPP
