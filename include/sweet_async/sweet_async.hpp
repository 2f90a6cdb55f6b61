// sweet_async/sweet_async.hpp: the whole library in one include.
#ifndef SWEET_ASYNC_SWEET_ASYNC_HPP
#define SWEET_ASYNC_SWEET_ASYNC_HPP

#include <sweet_async/config.hpp>

#include <sweet_async/base/backoff.hpp>
#include <sweet_async/base/cancellation_level.hpp>
#include <sweet_async/base/dead_letter.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/base/event.hpp>
#include <sweet_async/base/event_view.hpp>
#include <sweet_async/base/final_result.hpp>
#include <sweet_async/base/link_report.hpp>
#include <sweet_async/base/min_max.hpp>
#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/overflow_policy.hpp>
#include <sweet_async/base/processor_context.hpp>
#include <sweet_async/base/strategy_report.hpp>
#include <sweet_async/base/streaming_event_type.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/task_priority.hpp>
#include <sweet_async/base/task_stats.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/base/throttle.hpp>
#include <sweet_async/base/trace_sink.hpp>
#include <sweet_async/base/uuid.hpp>
#include <sweet_async/base/vegas_options.hpp>
#include <sweet_async/channel/channel.hpp>
#include <sweet_async/flow/flow.hpp>
#include <sweet_async/flow/flow_report.hpp>
#include <sweet_async/flow/forwarding_collector.hpp>
#include <sweet_async/receiver/collector.hpp>
#include <sweet_async/receiver/concurrency_limit.hpp>
#include <sweet_async/receiver/fold_collector.hpp>
#include <sweet_async/receiver/receiver.hpp>
#include <sweet_async/strategies/adaptive.hpp>
#include <sweet_async/strategies/any_strategy.hpp>
#include <sweet_async/strategies/batched.hpp>
#include <sweet_async/strategies/parallel.hpp>
#include <sweet_async/strategies/per_key.hpp>
#include <sweet_async/strategies/processing_strategy.hpp>
#include <sweet_async/strategies/serial.hpp>
#include <sweet_async/task/async_task.hpp>
#include <sweet_async/task/emitting_task.hpp>
#include <sweet_async/task/emitting_task_builder.hpp>
#include <sweet_async/task/event_stream.hpp>
#include <sweet_async/task/pulled_event.hpp>
#include <sweet_async/task/sender.hpp>
#include <sweet_async/task/stream_processor_builder.hpp>

/// \namespace sweet_async
/// The library: tasks, their builders, strategies, flows and reports. (Its `detail` namespace is
/// internal.)

#endif  // SWEET_ASYNC_SWEET_ASYNC_HPP
