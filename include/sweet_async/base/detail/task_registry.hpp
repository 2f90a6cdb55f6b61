// sweet_async/base/detail/task_registry.hpp: the tasks of an execution context, told when it goes.
#ifndef SWEET_ASYNC_BASE_DETAIL_TASK_REGISTRY_HPP
#define SWEET_ASYNC_BASE_DETAIL_TASK_REGISTRY_HPP

#include <sweet_async/config.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include SWEET_ASYNC_ASIO_HEADER_IN(execution, context)
#include SWEET_ASYNC_ASIO_HEADER(execution_context)
#include SWEET_ASYNC_ASIO_HEADER(query)

namespace sweet_async::detail {

/// A task that parks operations in structures of its own (a channel, a
/// completion), where Asio cannot see them, and so must let go of them itself
/// when its execution context is destroyed.
class abandonable {
public:
    virtual ~abandonable() = default;

    /// Called once, from the shutdown of the task's execution context, when
    /// the task is still referenced. Must complete every parked operation
    /// (posting handlers of the dying context hands them to Asio, which
    /// destroys them unrun; handlers of other contexts run with an error),
    /// release every strand of that context it holds, and make sure nothing
    /// posts to the context afterwards. The context runs no handler meanwhile.
    virtual void abandon() noexcept = 0;
};

/// An Asio service of each execution context that runs tasks: it tells those
/// tasks when the context shuts down (see `abandonable`).
///
/// Asio shuts services down newest first before destroying any of them. This
/// one is created by the first task, after the context's scheduler (the first
/// service of `io_context` and `thread_pool`), so its `shutdown()` runs while
/// the scheduler still accepts (and will destroy) posted handlers.
///
/// Entries are weak and never removed by the tasks themselves: a task may
/// outlive its context, and then this service with it. Expired entries are
/// purged lazily, so the list stays within twice the live tasks (plus a
/// small constant) and registering costs amortized O(1).
class task_registry final : public asio::execution_context::service {
public:
    /// Identifies the service to `asio::use_service`.
    static inline asio::execution_context::id id;  // NOLINT(cert-err58-cpp): cannot throw

    explicit task_registry(asio::execution_context& context) : service(context) {}

    /// The registry of the context `executor` belongs to (created on first use).
    static task_registry& of(const asio::any_io_executor& executor) {
        return asio::use_service<task_registry>(asio::query(executor, asio::execution::context));
    }

    /// Registers `task`. When the context is destroyed while `task` is
    /// still alive, `task->abandon()` is called. A task registered after the
    /// context began shutting down is abandoned at once.
    void add(std::weak_ptr<abandonable> task) {
        {
            std::lock_guard lock(mutex_);
            if (!shut_down_) {
                if (tasks_.size() >= purge_at_) {
                    std::erase_if(tasks_, [](const auto& entry) { return entry.expired(); });
                    purge_at_ = std::max(minimum_purge_at, 2 * tasks_.size());
                }
                tasks_.push_back(std::move(task));
                return;
            }
        }
        if (auto alive = task.lock()) alive->abandon();
    }

    /// How many entries are kept (live tasks and not yet purged expired
    /// ones). For tests and diagnostics.
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return tasks_.size();
    }

private:
    static constexpr std::size_t minimum_purge_at = 16;

    void shutdown() override {
        std::vector<std::weak_ptr<abandonable>> tasks;
        {
            std::lock_guard lock(mutex_);
            shut_down_ = true;
            tasks.swap(tasks_);
        }
        // Without the lock: abandoning may destroy coroutine frames (when the
        // strands are shut down already), which may release other tasks.
        for (const auto& entry : tasks) {
            if (auto alive = entry.lock()) alive->abandon();
        }
    }

    mutable std::mutex mutex_;  // guards the members below
    std::vector<std::weak_ptr<abandonable>> tasks_;
    std::size_t purge_at_ = minimum_purge_at;
    bool shut_down_ = false;
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_TASK_REGISTRY_HPP
