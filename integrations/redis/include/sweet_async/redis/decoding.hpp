// sweet_async/redis/decoding.hpp: a processor of stream entries made of a decoder and the
// user's processor of decoded payloads.
#ifndef SWEET_ASYNC_REDIS_DECODING_HPP
#define SWEET_ASYNC_REDIS_DECODING_HPP

#include <sweet_async/config.hpp>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)

#include <sweet_async/redis/stream_entry.hpp>

namespace sweet_async::redis {

/// A processor's result and the id of the entry it came from: what
/// `acknowledging` needs to acknowledge the entry and to key the result by
/// it (a redelivered entry's result replaces the first, rather than doubling).
template <class R>
struct processed {
    std::string entry_id{};  ///< The stream entry's id.
    R value{};               ///< The processor's result.
};

namespace detail {
template <class>
struct awaitable_value {};
template <class R>
struct awaitable_value<asio::awaitable<R>> {
    using type = R;
};
}  // namespace detail

/// The processor of a task fed by a `stream_source`: decodes each entry with
/// `decode`, `D(const stream_entry&)`, then calls `processor(D)`, synchronous
/// or a coroutine, and returns its result with the entry's id
/// (`processed<R>`). A decoder that throws fails that event (it goes to the
/// dead-letter stream with the exception's message, after the task's
/// retries), not the task.
template <class Decode, class Processor>
auto decoding(Decode decode, Processor processor) {
    using decoded = std::invoke_result_t<const Decode&, const stream_entry&>;
    using returned = std::invoke_result_t<const Processor&, decoded>;
    if constexpr (requires { typename detail::awaitable_value<returned>::type; }) {
        using result = typename detail::awaitable_value<returned>::type;
        // The strategy keeps this processor alive while any call to it runs, so the coroutine
        // may use the captures.
        return [decode = std::move(decode), processor = std::move(processor)](
                   const stream_entry& e) -> asio::awaitable<processed<result>> {
            result value = co_await std::invoke(processor, std::invoke(decode, e));
            co_return processed<result>{e.id, std::move(value)};
        };
    } else {
        return
            [decode = std::move(decode), processor = std::move(processor)](const stream_entry& e) {
                return processed<returned>{e.id, std::invoke(processor, std::invoke(decode, e))};
            };
    }
}

}  // namespace sweet_async::redis

#endif  // SWEET_ASYNC_REDIS_DECODING_HPP
