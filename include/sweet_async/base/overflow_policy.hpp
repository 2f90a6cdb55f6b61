// sweet_async/base/overflow_policy.hpp: what a send does when the channel is full.
#ifndef SWEET_ASYNC_BASE_OVERFLOW_POLICY_HPP
#define SWEET_ASYNC_BASE_OVERFLOW_POLICY_HPP

#include <string_view>

#include <sweet_async/base/detail/enum_formatter.hpp>

namespace sweet_async {

/// What a send into a full channel does (the builder's `overflow`), as
/// System.Threading.Channels' `BoundedChannelFullMode` has it.
enum class overflow_policy {
    /// Waits for room (`send`, `async_send`); `try_send` says `full`. The default.
    wait,
    /// Accepts the new event and drops it at once: the send succeeds, the
    /// event ends `dropped`. For streams where the latest readings can wait
    /// but must not pile up (a sampler that keeps what it has).
    drop_newest,
    /// Accepts the new event and drops the oldest waiting one to make room:
    /// the freshest events are kept (telemetry, prices, positions).
    drop_oldest,
    /// Refuses at once: every send form fails with `full` instead of
    /// waiting, so the producer decides (shed load, reply "busy").
    reject,
};

/// The name of the value, as spelled in the enumeration.
constexpr std::string_view to_string(overflow_policy value) noexcept {
    switch (value) {
    case overflow_policy::wait: return "wait";
    case overflow_policy::drop_newest: return "drop_newest";
    case overflow_policy::drop_oldest: return "drop_oldest";
    case overflow_policy::reject: return "reject";
    }
    return "unknown";
}

/// True for the policies that drop events rather than wait or refuse.
constexpr bool drops(overflow_policy value) noexcept {
    return value == overflow_policy::drop_newest || value == overflow_policy::drop_oldest;
}

}  // namespace sweet_async

/// The value's name, e.g. "drop_oldest"; takes string format specs such as `{:>12}`.
template <>
struct fmt::formatter<sweet_async::overflow_policy>
    : sweet_async::detail::enum_formatter<sweet_async::overflow_policy> {};

#endif  // SWEET_ASYNC_BASE_OVERFLOW_POLICY_HPP
