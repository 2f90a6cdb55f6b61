// sweet_async/receiver/detail/processor_traits.hpp: recognising the forms a processor may take.
#ifndef SWEET_ASYNC_RECEIVER_DETAIL_PROCESSOR_TRAITS_HPP
#define SWEET_ASYNC_RECEIVER_DETAIL_PROCESSOR_TRAITS_HPP

#include <sweet_async/config.hpp>

#include <concepts>
#include <functional>
#include <span>
#include <type_traits>
#include <variant>
#include <vector>

#include SWEET_ASYNC_ASIO_HEADER(awaitable)

#include <sweet_async/base/event.hpp>
#include <sweet_async/base/event_view.hpp>
#include <sweet_async/base/processor_context.hpp>

namespace sweet_async::detail {

template <class X>
struct awaited {
    static constexpr bool is_awaitable = false;
    using type = X;
};

template <class X, class Executor>
struct awaited<asio::awaitable<X, Executor>> {
    static constexpr bool is_awaitable = true;
    using type = X;
};

/// `void` results are recorded as `std::monostate`, so every processed event
/// still has an entry under its id.
template <class X>
using stored_result_t = std::conditional_t<std::is_void_v<X>, std::monostate, X>;

template <class X>
struct batch_results {
    static constexpr bool is_vector = false;
    using type = void;
};

template <class R, class Allocator>
struct batch_results<std::vector<R, Allocator>> {
    static constexpr bool is_vector = true;
    using type = R;
};

/// Which of the accepted signatures `P` has, for payload `T` in a task with
/// id type `Id`, and what it produces. Per-event forms are checked first, in
/// this order: `R(const T&)`, `R(const T&, processor_context<Id>&, uuid)`,
/// `R(event_view<T, Id>)`; then the per-batch form
/// `std::vector<R>(std::span<const T>)`. Any of them may return
/// `asio::awaitable<...>` instead.
template <class P, class T, class Id>
struct processor_traits {
    static constexpr bool takes_payload = std::invocable<P&, const T&>;
    static constexpr bool takes_context =
        !takes_payload && std::invocable<P&, const T&, processor_context<Id>&, const uuid&>;
    static constexpr bool takes_event =
        !takes_payload && !takes_context && std::invocable<P&, event_view<T, Id>>;
    static constexpr bool takes_batch =
        !takes_payload && !takes_context && !takes_event && std::invocable<P&, std::span<const T>>;

    static auto raw_result_of() {
        if constexpr (takes_payload) {
            return std::type_identity<std::invoke_result_t<P&, const T&>>{};
        } else if constexpr (takes_context) {
            return std::type_identity<
                std::invoke_result_t<P&, const T&, processor_context<Id>&, const uuid&>>{};
        } else if constexpr (takes_event) {
            return std::type_identity<std::invoke_result_t<P&, event_view<T, Id>>>{};
        } else if constexpr (takes_batch) {
            return std::type_identity<std::invoke_result_t<P&, std::span<const T>>>{};
        } else {
            return std::type_identity<void>{};
        }
    }

    using raw_result = typename decltype(raw_result_of())::type;
    /// True when the processor is a coroutine returning `asio::awaitable<X>`.
    static constexpr bool is_coroutine = awaited<raw_result>::is_awaitable;
    using produced = typename awaited<raw_result>::type;

    static constexpr bool valid = takes_payload || takes_context || takes_event ||
                                  (takes_batch && batch_results<produced>::is_vector);

    /// What is collected per processed event.
    using result_type = stored_result_t<
        std::conditional_t<takes_batch, typename batch_results<produced>::type, produced>>;
};

/// Calls `processor` in whichever form it has; returns what it returns.
template <class P, class T, class Id>
decltype(auto) call_processor(P& processor, const event<T, Id>& e, processor_context<Id>& context) {
    using traits = processor_traits<P, T, Id>;
    if constexpr (traits::takes_payload) {
        return std::invoke(processor, e.payload());
    } else if constexpr (traits::takes_context) {
        return std::invoke(processor, e.payload(), context, e.id());
    } else {
        return std::invoke(processor, event_view<T, Id>(e));
    }
}

}  // namespace sweet_async::detail

#endif  // SWEET_ASYNC_RECEIVER_DETAIL_PROCESSOR_TRAITS_HPP
