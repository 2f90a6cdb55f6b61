// sweet_async/channel/detail/sender_access.hpp: the state behind a sender, for the library's links.
#ifndef SWEET_ASYNC_CHANNEL_DETAIL_SENDER_ACCESS_HPP
#define SWEET_ASYNC_CHANNEL_DETAIL_SENDER_ACCESS_HPP

#include <sweet_async/config.hpp>

namespace sweet_async::detail {

/// Reaches the state behind a `sender` (a friend of it): a link counts
/// itself among the feeders of the task it sends to, a `flow` stops it.
struct sender_access {
    template <class Sender>
    static auto& core(const Sender& s) noexcept {
        return *s.core_;
    }
    /// The state itself, for a handle that must reach it later (`flow`).
    template <class Sender>
    static const auto& shared_core(const Sender& s) noexcept {
        return s.core_;
    }
};

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_CHANNEL_DETAIL_SENDER_ACCESS_HPP
