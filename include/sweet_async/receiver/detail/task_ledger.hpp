// sweet_async/receiver/detail/task_ledger.hpp: a task's ledger, made and closed from its state.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_TASK_LEDGER_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_TASK_LEDGER_HPP

#include <sweet_async/config.hpp>

#include <string>
#include <utility>

#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/receiver/detail/emitting_core.hpp>
#include <sweet_async/receiver/detail/ledger.hpp>

namespace sweet_async::detail {

/// The ledger of the task of `task`: its live counts, its error retention,
/// its dead-letter sink, results into `collector`. The one way both consumers
/// (a receiver's and a stream processor's) make theirs.
template <class Collection, class T, class Id, class Collector>
ledger<T, Collection, Id, Collector> task_ledger(emitting_core<T, Id>& task, Collector collector) {
    return ledger<T, Collection, Id, Collector>(
        task.counts(), std::move(collector), task.options.retained_errors, task.dead_letter_sink());
}

/// Closes the ledger of the task of `task` with the events its channel
/// dropped, the strategy's report and `failure`: its final result.
template <class T, class Collection, class Id, class Collector>
final_result<T, Collection, Id> close_task_ledger(ledger<T, Collection, Id, Collector>&& records,
                                                  emitting_core<T, Id>& task, task_status status,
                                                  task_stats stats, std::string failure) {
    records.record_dropped(task.drops().take(), task.options.overflow);
    return std::move(records).close(task.id(), task.options.name, status, stats,
                                    task.strategy_report(), std::move(failure));
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_TASK_LEDGER_HPP
