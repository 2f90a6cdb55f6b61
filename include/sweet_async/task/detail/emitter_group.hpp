// sweet_async/task/detail/emitter_group.hpp: the emitter coroutines one task runs.
#ifndef SWEET_ASYNC_TASK_DETAIL_EMITTER_GROUP_HPP
#define SWEET_ASYNC_TASK_DETAIL_EMITTER_GROUP_HPP

#include <sweet_async/config.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)
#include SWEET_ASYNC_ASIO_HEADER(co_spawn)
#include SWEET_ASYNC_ASIO_HEADER(error)
#include SWEET_ASYNC_ASIO_HEADER(strand)
#include <fmt/format.h>

#include <sweet_async/base/detail/detached_owning.hpp>
#include <sweet_async/base/detail/exception_text.hpp>
#include <sweet_async/base/detail/interrupt_registry.hpp>
#include <sweet_async/base/detail/stop_listener.hpp>
#include <sweet_async/base/detail/trace.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/receiver/detail/emitting_core.hpp>
#include <sweet_async/receiver/detail/in_flight_scope.hpp>
#include <sweet_async/task/detail/emitter_plan.hpp>
#include <sweet_async/task/sender.hpp>

namespace sweet_async::detail {

/// The emitters of one task, owned by its consumer coroutine, which makes the
/// group when it starts and joins it before the task ends: each emitter runs
/// on a strand of its own, with a `sender` of the task; the last to return
/// closes the stream; the first to throw closes it too, and its exception is
/// the task's failure. Any stop request (graceful included: producing is
/// what stops) and the end of the stream interrupt the emitters still
/// running, at their next `co_await`.
///
/// Built on an `in_flight_scope`: the emitters are work the task must see
/// finish, their ends come back to the consumer strand through its inbox,
/// and its registry interrupts them.
template <class T, class Id>
class emitter_group final : public emitter_run {
    using core_type = emitting_core<T, Id>;

    /// One emitter's end, handed back to the consumer strand.
    struct ended {
        std::shared_ptr<interruptible> entry;
        std::size_t index;
        std::exception_ptr error;
    };

    struct record_end {
        emitter_group* group;
        void operator()(ended&& end) const { group->record(std::move(end)); }
    };

public:
    /// Consumer strand: starts `emitters`, unless the task is already stopping.
    emitter_group(std::shared_ptr<core_type> state, const std::vector<emitter<T, Id>>& emitters)
        : state_(state),
          scope_(state, record_end{this}, stop_request::graceful),
          total_(emitters.size()) {
        // A stop requested before this point was told to no listener: the
        // emitters it would interrupt do not start at all.
        if (state_->stop() != stop_request::none) return;
        for (std::size_t i = 0; i != emitters.size(); ++i)
            start(i, emitters[i]);
    }

    emitter_group(const emitter_group&) = delete;
    emitter_group& operator=(const emitter_group&) = delete;

    /// Consumer strand: the stream has ended, so whatever the emitters still
    /// running wait for can produce nothing. Interrupts them.
    void stream_ended() override { interrupt_running(); }

    /// Consumer strand: suspends until every emitter has returned.
    asio::awaitable<void> join() override { return scope_.wait_below(1); }

    /// Why the first emitter that failed did ("emitter 2 of 3 threw: ..."),
    /// or empty.
    const std::string& failure() const noexcept override { return failure_; }

private:
    void start(std::size_t index, const emitter<T, Id>& emit) {
        auto strand = asio::make_strand(state_->executor);
        auto entry = scope_.enter(strand);
        scope_.started();
        ++running_;
        // The completion runs on the emitter's strand, where its signal is
        // emitted, and owns the entry that owns the signal (see
        // `detached_owning`).
        asio::co_spawn(strand, run(emit, sweet_async::sender<T, Id>(state_)),
                       cancellable_completion(
                           entry->signal.slot(),
                           [entry, index, inbox = scope_.handoff()](std::exception_ptr error) {
                               entry->ended = true;
                               inbox->deliver(ended{entry, index, std::move(error)});
                           }));
    }

    /// The frame owns the emitter and its sender for as long as it runs.
    static asio::awaitable<void> run(emitter<T, Id> emit, sweet_async::sender<T, Id> to) {
        co_await emit(to);
    }

    /// Consumer strand: one emitter has ended.
    void record(ended&& end) {
        scope_.leave(*end.entry);
        --running_;
        if (std::string why = failure_of(end.error); !why.empty() && failure_.empty()) {
            failure_ = fmt::format("emitter {} of {} threw: {}", end.index + 1, total_, why);
            trace(state_->options, state_->id(), trace_kind::emitter_failed, "{}", failure_);
            state_->channel().close();
            interrupt_running();
        }
        if (running_ == 0) state_->channel().close();  // the last producer has returned
    }

    void interrupt_running() {
        interrupted_ = true;
        if (running_ != 0) scope_.interrupt_all();
    }

    /// Empty when `error` is how an emitter stops: it returned, its stream
    /// closed under it (a send threw `closed`), or it was interrupted (an
    /// operation it awaited, a send included, was aborted).
    std::string failure_of(const std::exception_ptr& error) const {
        if (!error) return {};
        try {
            std::rethrow_exception(error);
        } catch (const system_error& ex) {
            if (ex.code() == async_task_error::closed) return {};
            // Interrupted by a stop request (its listener is the scope's inbox) or by us.
            const bool interrupted = interrupted_ || state_->stop() != stop_request::none;
            if (interrupted && ex.code() == asio::error::operation_aborted) return {};
        } catch (...) {
        }
        return exception_text(error);
    }

    std::shared_ptr<core_type> state_;
    in_flight_scope<ended, record_end> scope_;
    std::size_t total_;
    std::size_t running_ = 0;
    bool interrupted_ = false;
    std::string failure_;
};

/// Starts `emitters` for the task of `core` (an `emitter_plan::starter`).
template <class T, class Id>
std::unique_ptr<emitter_run> start_emitter_group(const std::shared_ptr<emitting_core<T, Id>>& core,
                                                 const std::vector<emitter<T, Id>>& emitters) {
    return std::make_unique<emitter_group<T, Id>>(core, emitters);
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_TASK_DETAIL_EMITTER_GROUP_HPP
