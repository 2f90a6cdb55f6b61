// sweet_async/base/processor_context.hpp: what a processor may know about its task.
#ifndef SWEET_ASYNC_BASE_PROCESSOR_CONTEXT_HPP
#define SWEET_ASYNC_BASE_PROCESSOR_CONTEXT_HPP

#include <sweet_async/config.hpp>

#include <string_view>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)
#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/uuid.hpp>

namespace sweet_async {

namespace detail {
struct context_access;
}

/// Handed to processors of the form `R(const T&, processor_context<Id>&, uuid)`:
/// the task the event belongs to and which attempt this is.
template <task_id Id = uuid>
class processor_context {
public:
    /// A context for the task `task` named `task_name`, at its first attempt. Both are
    /// referred to, not copied: they must outlive the context (the library's do).
    processor_context(const Id& task, std::string_view task_name, asio::any_io_executor executor)
        : task_id_(&task),
          task_name_(task_name),
          executor_(std::move(executor)) {}

    /// The id of the task the event belongs to.
    const Id& task_id() const noexcept { return *task_id_; }
    /// The name of that task.
    std::string_view task_name() const noexcept { return task_name_; }
    /// 1 for the first attempt, 2 for the first retry, ...
    unsigned attempt() const noexcept { return attempt_; }
    /// The task's executor, for processors that start asynchronous work.
    const asio::any_io_executor& get_executor() const noexcept { return executor_; }

private:
    friend struct detail::context_access;

    const Id* task_id_;
    std::string_view task_name_;
    asio::any_io_executor executor_;
    unsigned attempt_ = 1;
};

namespace detail {
struct context_access {
    template <class Id>
    static void set_attempt(processor_context<Id>& context, unsigned attempt) noexcept {
        context.attempt_ = attempt;
    }
};
}  // namespace detail

}  // namespace sweet_async

/// `processor_context(task='<name>', id=<task id>, attempt=<n>)`.
template <class Id>
struct fmt::formatter<sweet_async::processor_context<Id>> : sweet_async::detail::plain_formatter {
    auto format(const sweet_async::processor_context<Id>& c, fmt::format_context& ctx) const {
        return sweet_async::detail::write_text(
            ctx, fmt::format("processor_context(task='{}', id={}, attempt={})", c.task_name(),
                             c.task_id().to_string(), c.attempt()));
    }
};

#endif  // SWEET_ASYNC_BASE_PROCESSOR_CONTEXT_HPP
