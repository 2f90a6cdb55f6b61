// sweet_async/base/detail/retry_policy.hpp: whether a failed attempt is made again, and when.
#ifndef SWEET_ASYNC_BASE_DETAIL_RETRY_POLICY_HPP
#define SWEET_ASYNC_BASE_DETAIL_RETRY_POLICY_HPP

#include <sweet_async/config.hpp>

#include <chrono>
#include <optional>

#include <sweet_async/base/task_options.hpp>

namespace sweet_async::detail {

/// The one retry policy of a task, whether its processor takes events one by
/// one or pulls them from a stream: after attempt number `made` failed,
/// another is made when `made <= options.retry` and the task is not
/// `stopping`, once `options.retry_backoff` for it has passed (the wait it
/// returns, zero for none); no value: the event's failure is final.
inline std::optional<std::chrono::nanoseconds> retry_after(const task_options& options,
                                                           unsigned made, bool stopping) noexcept {
    if (made > options.retry || stopping) return std::nullopt;
    return options.retry_backoff.delay(made);
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_BASE_DETAIL_RETRY_POLICY_HPP
