// sweet_async/redis.hpp: the Redis Streams integration (target sweet_async::redis), whole.
#ifndef SWEET_ASYNC_REDIS_HPP
#define SWEET_ASYNC_REDIS_HPP

#include <sweet_async/redis/acknowledging_collector.hpp>
#include <sweet_async/redis/connection.hpp>
#include <sweet_async/redis/decoding.hpp>
#include <sweet_async/redis/error.hpp>
#include <sweet_async/redis/reply.hpp>
#include <sweet_async/redis/server.hpp>
#include <sweet_async/redis/stream_entry.hpp>
#include <sweet_async/redis/stream_options.hpp>
#include <sweet_async/redis/stream_sink.hpp>
#include <sweet_async/redis/stream_source.hpp>
#include <sweet_async/redis/stream_source_stats.hpp>

/// \namespace sweet_async::redis
/// Redis Streams as the source and the sink of tasks, over hiredis (target sweet_async::redis).

#endif  // SWEET_ASYNC_REDIS_HPP
