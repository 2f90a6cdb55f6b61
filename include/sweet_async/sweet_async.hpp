// sweet_async/sweet_async.hpp: the whole library in one include.
#ifndef SWEET_ASYNC_SWEET_ASYNC_HPP
#define SWEET_ASYNC_SWEET_ASYNC_HPP

#include <sweet_async/config.hpp>

#include <sweet_async/async_task.hpp>
#include <sweet_async/backoff.hpp>
#include <sweet_async/cancellation_level.hpp>
#include <sweet_async/channel.hpp>
#include <sweet_async/collector.hpp>
#include <sweet_async/concurrency_limit.hpp>
#include <sweet_async/dead_letter.hpp>
#include <sweet_async/emitting_task.hpp>
#include <sweet_async/emitting_task_builder.hpp>
#include <sweet_async/error.hpp>
#include <sweet_async/event.hpp>
#include <sweet_async/event_stream.hpp>
#include <sweet_async/final_result.hpp>
#include <sweet_async/flow.hpp>
#include <sweet_async/flow_report.hpp>
#include <sweet_async/fold_collector.hpp>
#include <sweet_async/forwarding_collector.hpp>
#include <sweet_async/link_report.hpp>
#include <sweet_async/min_max.hpp>
#include <sweet_async/outcome.hpp>
#include <sweet_async/overflow_policy.hpp>
#include <sweet_async/processing_strategy.hpp>
#include <sweet_async/processor_context.hpp>
#include <sweet_async/pulled_event.hpp>
#include <sweet_async/receiver.hpp>
#include <sweet_async/receiver_event.hpp>
#include <sweet_async/receiver_strategy.hpp>
#include <sweet_async/sender.hpp>
#include <sweet_async/strategies/adaptive.hpp>
#include <sweet_async/strategies/batched.hpp>
#include <sweet_async/strategies/parallel.hpp>
#include <sweet_async/strategies/per_key.hpp>
#include <sweet_async/strategies/serial.hpp>
#include <sweet_async/strategy_report.hpp>
#include <sweet_async/stream_processor_builder.hpp>
#include <sweet_async/streaming_event_type.hpp>
#include <sweet_async/task_id.hpp>
#include <sweet_async/task_options.hpp>
#include <sweet_async/task_priority.hpp>
#include <sweet_async/task_stats.hpp>
#include <sweet_async/task_status.hpp>
#include <sweet_async/throttle.hpp>
#include <sweet_async/trace_sink.hpp>
#include <sweet_async/uuid.hpp>
#include <sweet_async/vegas_options.hpp>

#endif  // SWEET_ASYNC_SWEET_ASYNC_HPP
