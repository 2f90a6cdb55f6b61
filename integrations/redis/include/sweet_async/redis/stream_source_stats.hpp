// sweet_async/redis/stream_source_stats.hpp: what a stream source has done so far.
#ifndef SWEET_ASYNC_REDIS_STREAM_SOURCE_STATS_HPP
#define SWEET_ASYNC_REDIS_STREAM_SOURCE_STATS_HPP

#include <cstdint>

#include <fmt/format.h>

#include <sweet_async/base/detail/plain_formatter.hpp>

namespace sweet_async::redis {

/// A stream source's counts, each exact, read together as a snapshot.
struct stream_source_stats {
    std::uint64_t read = 0;           ///< Entries read from the group (redeliveries included).
    std::uint64_t reclaimed = 0;      ///< Of those, taken over from idle consumers.
    std::uint64_t acknowledged = 0;   ///< Entries whose `XACK` the server confirmed.
    std::uint64_t dead_lettered = 0;  ///< Of those, written to the dead-letter stream first.
    std::uint64_t reconnects = 0;     ///< Connections lost and made again.
    std::uint64_t refused = 0;        ///< Settlements the server refused (left pending, not lost).
};

}  // namespace sweet_async::redis

/// "read=… reclaimed=… acknowledged=… dead_lettered=… reconnects=… refused=…".
template <>
struct fmt::formatter<sweet_async::redis::stream_source_stats>
    : sweet_async::detail::plain_formatter {
    template <class FormatContext>
    auto format(const sweet_async::redis::stream_source_stats& s, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(),
                              "read={} reclaimed={} acknowledged={} dead_lettered={} "
                              "reconnects={} refused={}",
                              s.read, s.reclaimed, s.acknowledged, s.dead_lettered, s.reconnects,
                              s.refused);
    }
};

#endif  // SWEET_ASYNC_REDIS_STREAM_SOURCE_STATS_HPP
