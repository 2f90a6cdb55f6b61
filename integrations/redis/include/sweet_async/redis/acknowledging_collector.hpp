// sweet_async/redis/acknowledging_collector.hpp: a collector that acknowledges each processed
// entry and keys its result by the entry's id.
#ifndef SWEET_ASYNC_REDIS_ACKNOWLEDGING_COLLECTOR_HPP
#define SWEET_ASYNC_REDIS_ACKNOWLEDGING_COLLECTOR_HPP

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>

#include <sweet_async/base/uuid.hpp>
#include <sweet_async/redis/decoding.hpp>
#include <sweet_async/redis/stream_source.hpp>

namespace sweet_async::redis {

/// Collects `processed<R>` results: acknowledges each entry on its source
/// once its result is recorded (the task's ledger calls `collect` exactly
/// then) and keeps the result under the entry's id, so that an entry
/// processed twice (delivered again after a worker's death) has one result,
/// the later. With `keep_results = false` only the count is kept, for
/// streams too long to hold.
template <class R>
class acknowledging_collector {
public:
    /// Results by stream entry id.
    using collection_type = std::unordered_map<std::string, R>;

    /// Acknowledges on `source`; keeps the results unless told not to.
    explicit acknowledging_collector(stream_source source, bool keep_results = true)
        : source_(std::move(source)),
          keep_(keep_results) {}

    /// Acknowledges `p.entry_id` and keeps `p.value` under it.
    void collect(const uuid& /*event_id*/, processed<R>&& p) {
        source_.acknowledge(p.entry_id);
        ++collected_;
        if (keep_) results_.insert_or_assign(std::move(p.entry_id), std::move(p.value));
    }

    /// Results collected so far, redeliveries included.
    std::size_t size() const noexcept { return collected_; }

    /// The results by entry id.
    collection_type collection() && { return std::move(results_); }

private:
    stream_source source_;
    bool keep_;
    std::size_t collected_ = 0;
    collection_type results_;
};

/// The collector of a task fed by `source`, for results `R` (see `acknowledging_collector`).
template <class R>
acknowledging_collector<R> acknowledging(stream_source source, bool keep_results = true) {
    return acknowledging_collector<R>(std::move(source), keep_results);
}

}  // namespace sweet_async::redis

#endif  // SWEET_ASYNC_REDIS_ACKNOWLEDGING_COLLECTOR_HPP
