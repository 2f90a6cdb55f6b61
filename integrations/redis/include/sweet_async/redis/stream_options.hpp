// sweet_async/redis/stream_options.hpp: how a stream source reads its consumer group.
#ifndef SWEET_ASYNC_REDIS_STREAM_OPTIONS_HPP
#define SWEET_ASYNC_REDIS_STREAM_OPTIONS_HPP

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include <sweet_async/base/backoff.hpp>

namespace sweet_async::redis {

/// The settings of a `stream_source`.
struct stream_options {
    /// The stream's key.
    std::string stream{};
    /// The consumer group the workers share; created (with the stream) when missing.
    std::string group{};
    /// This worker's name in the group: unique per worker, and the same after a restart so
    /// that the worker re-reads what it had been given and not acknowledged.
    std::string consumer{};
    /// Entries per read (`XREADGROUP COUNT`, `XAUTOCLAIM COUNT`).
    std::size_t count = 100;
    /// How long a read waits on the server for new entries (`BLOCK`): also how long a stop
    /// request may wait for the read in progress. With `end_when_drained`, reads wait only
    /// while entries are pending with other consumers (a drained stream ends at once).
    std::chrono::milliseconds block{200};
    /// Where a group created here starts: "0" (the whole stream) or "$" (new entries only).
    std::string group_start = "0";
    /// An entry pending this long with another consumer is taken over (`XAUTOCLAIM`): its
    /// worker is taken for dead. Longer than any event's processing.
    std::chrono::milliseconds claim_idle{30'000};
    /// An entry delivered more times than this is not processed again: it goes to the
    /// dead-letter stream and is acknowledged (a poison entry that kills its workers).
    unsigned max_deliveries = 5;
    /// Where failed entries go, with their error; "<stream>:dead" when empty.
    std::string dead_letter_stream{};
    /// The reader returns, ending the task's stream, once a read finds nothing new, nothing is
    /// left to take over, and no entry of the group is pending (for batch jobs and tests;
    /// a service keeps reading).
    bool end_when_drained = false;
    /// The wait before each reconnection after the connection failed.
    backoff reconnect{.initial = std::chrono::milliseconds(20),
                      .multiplier = 2.0,
                      .max = std::chrono::seconds(2)};
    /// Most entry ids per `XACK`.
    std::size_t ack_batch = 512;

    /// The dead-letter stream's key.
    std::string dead_letters() const {
        return dead_letter_stream.empty() ? stream + ":dead" : dead_letter_stream;
    }

    /// Throws `std::invalid_argument` naming the first setting that cannot work.
    void validate() const {
        auto refuse = [](std::string what) {
            throw std::invalid_argument("redis::stream_options." + what);
        };
        if (stream.empty()) refuse("stream must name a stream, got an empty string");
        if (group.empty()) refuse("group must name a consumer group, got an empty string");
        if (consumer.empty()) refuse("consumer must name this worker, got an empty string");
        if (count == 0) refuse("count must be at least 1, got 0");
        if (block.count() <= 0)
            refuse(fmt::format("block must be positive, got {} ms", block.count()));
        if (claim_idle.count() <= 0)
            refuse(fmt::format("claim_idle must be positive, got {} ms", claim_idle.count()));
        if (max_deliveries == 0) refuse("max_deliveries must be at least 1, got 0");
        if (ack_batch == 0) refuse("ack_batch must be at least 1, got 0");
        if (dead_letters() == stream)
            refuse(fmt::format("dead_letter_stream must differ from stream, got '{}'", stream));
    }
};

}  // namespace sweet_async::redis

#endif  // SWEET_ASYNC_REDIS_STREAM_OPTIONS_HPP
