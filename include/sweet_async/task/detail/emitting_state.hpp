// sweet_async/task/detail/emitting_state.hpp: the whole shared state of one emitting task.
#ifndef SWEET_ASYNC_TASK_DETAIL_EMITTING_STATE_HPP
#define SWEET_ASYNC_TASK_DETAIL_EMITTING_STATE_HPP

#include <sweet_async/config.hpp>

#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(any_io_executor)

#include <sweet_async/base/error.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/receiver/detail/emitting_core.hpp>
#include <sweet_async/task/detail/completion.hpp>

namespace sweet_async::detail {

/// The state of one emitting task: its `emitting_core` and the final result
/// that `wait()` takes, the only part that depends on what the task collects.
template <class T, class Collection, class Id>
class emitting_state final : public emitting_core<T, Id> {
public:
    using result_type = final_result<T, Collection, Id>;

    emitting_state(asio::any_io_executor executor, task_options settings,
                   bool stamps_creation = true)
        : emitting_core<T, Id>(std::move(executor), std::move(settings), stamps_creation) {}

    completion<result_type> done;

    /// As `emitting_core::abandon`, and a parked `wait()` completes with
    /// `abandoned`.
    void abandon() noexcept override {
        emitting_core<T, Id>::abandon();
        done.abandon(make_error_code(async_task_error::abandoned));
    }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_TASK_DETAIL_EMITTING_STATE_HPP
