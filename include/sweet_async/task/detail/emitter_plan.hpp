// sweet_async/task/detail/emitter_plan.hpp: the emitters a task will run, and how they start.
#ifndef SWEET_ASYNC_TASK_DETAIL_EMITTER_PLAN_HPP
#define SWEET_ASYNC_TASK_DETAIL_EMITTER_PLAN_HPP

#include <sweet_async/config.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)

#include <sweet_async/receiver/detail/emitting_core.hpp>
#include <sweet_async/task/sender.hpp>

namespace sweet_async::detail {

/// What a consumer sees of its task's running emitters (see
/// `emitter_group`), through which it ends and joins them.
class emitter_run {
public:
    virtual ~emitter_run() = default;
    /// Consumer strand: the stream has ended; interrupts the emitters still running.
    virtual void stream_ended() = 0;
    /// Consumer strand: suspends until every emitter has returned.
    virtual asio::awaitable<void> join() = 0;
    /// Why the first emitter that failed did, or empty.
    virtual const std::string& failure() const noexcept = 0;
};

/// The emitters the builder gathered for a task. The code that runs them is
/// named by the builder's `emitter()` when it adds one (`starts`), so that a
/// task without emitters does not compile it.
template <class T, class Id>
class emitter_plan {
public:
    using core_type = emitting_core<T, Id>;
    /// Starts `emitters` for the task of `core` (on the consumer strand).
    using starter = std::unique_ptr<emitter_run> (*)(const std::shared_ptr<core_type>& core,
                                                     const std::vector<emitter<T, Id>>& emitters);

    /// Adds `emit`, to be started by `starts`.
    void add(emitter<T, Id> emit, starter starts) {
        emitters_.push_back(std::move(emit));
        start_ = starts;
    }

    /// Consumer strand: starts the emitters for the task of `core`; null when there are none.
    std::unique_ptr<emitter_run> start(const std::shared_ptr<core_type>& core) const {
        if (emitters_.empty()) return nullptr;
        return start_(core, emitters_);
    }

private:
    std::vector<emitter<T, Id>> emitters_;
    starter start_ = nullptr;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_TASK_DETAIL_EMITTER_PLAN_HPP
