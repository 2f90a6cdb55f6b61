// Helpers shared by the tests: running coroutines to completion, test ids.
#ifndef SWEET_ASYNC_TESTS_TEST_SUPPORT_HPP
#define SWEET_ASYNC_TESTS_TEST_SUPPORT_HPP

#include <sweet_async/config.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/base/outcome.hpp>
#include <sweet_async/base/uuid.hpp>

#include "sweet_async_catch.hpp"

// Which sanitizer instruments this build: GCC defines __SANITIZE_*__, Clang answers
// __has_feature instead. Macros, because a TSan-only definition (suppressions) needs #if.
#if defined(__SANITIZE_THREAD__)
#define SWEET_ASYNC_TESTS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SWEET_ASYNC_TESTS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SWEET_ASYNC_TESTS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWEET_ASYNC_TESTS_ASAN 1
#endif
#endif

namespace test_support {

#if defined(SWEET_ASYNC_TESTS_ASAN) || defined(SWEET_ASYNC_TESTS_TSAN)
/// Sanitized builds run everything several times slower: stress tests give them smaller
/// streams and a shorter long run, so that CI stays fast.
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

/// Under ASan and TSan a failed `operator new` aborts the program instead of throwing
/// std::bad_alloc, so tests of what an impossible allocation reports run without them only.
inline constexpr bool failed_allocation_throws = !sanitized;

/// Runs `io` until the coroutine made by `make()` has finished, and returns
/// its value (or rethrows its exception). Everything happens on the calling
/// thread (unlike `asio::use_future`, whose promise is completed on Asio's
/// system thread).
template <class MakeCoroutine>
auto run(asio::io_context& io, MakeCoroutine&& make) {
    using awaitable_type = decltype(std::forward<MakeCoroutine>(make)());
    using value_type = typename awaitable_type::value_type;
    std::exception_ptr failure;
    std::optional<std::conditional_t<std::is_void_v<value_type>, bool, value_type>> value;
    bool finished = false;
    asio::co_spawn(io, std::forward<MakeCoroutine>(make)(),
                   [&](std::exception_ptr e, auto&&... result) {
                       finished = true;
                       failure = e;
                       if constexpr (std::is_void_v<value_type>) {
                           value.emplace(true);
                       } else if (!e) {
                           value.emplace(std::forward<decltype(result)>(result)...);
                       }
                   });
    io.restart();
    while (!finished && io.run_one() != 0) {
    }
    if (failure) std::rethrow_exception(failure);
    if (!value) throw std::logic_error("test_support::run: the coroutine did not finish");
    if constexpr (!std::is_void_v<value_type>) return std::move(*value);
}

/// Checks the accounting of a finished task: `sent == processed + failed +
/// timed_out + cancelled`, and every event id appears exactly once across the
/// collection (keyed collections) and the errors.
template <class Result>
void check_accounting(const Result& result) {
    const auto& stats = result.stats();
    CHECK(stats.balanced());
    CHECK(result.errors().size() + result.errors_not_retained() ==
          stats.failed + stats.timed_out + stats.cancelled + stats.dropped);
    CHECK(result.collection().size() == stats.processed);
    std::set<sweet_async::uuid> ids;
    for (const auto& entry : result.collection())
        ids.insert(entry.key);
    for (const auto& error : result.errors())
        ids.insert(error.event_id);
    CHECK(ids.size() + result.errors_not_retained() == stats.sent);
}

/// A per-batch processor: the length of every string of the batch.
inline std::vector<std::size_t> string_sizes(std::span<const std::string> batch) {
    std::vector<std::size_t> out;
    for (const auto& s : batch)
        out.push_back(s.size());
    return out;
}

/// A coroutine gate closed until `open()`: a processor that awaits `pass()`
/// is held (a slow stage, a busy key, a full channel) for as long as a test wants.
struct valve {
    explicit valve(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}

    asio::steady_timer timer;
    bool opened = false;

    void open() {
        opened = true;
        timer.cancel();  // every waiter re-checks
    }

    asio::awaitable<void> pass() {
        while (!opened) {
            sweet_async::error_code ec;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }
};

/// A coroutine processor body: waits `delay` on a timer, then yields `value`.
inline asio::awaitable<int> after(std::chrono::microseconds delay, int value) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
    co_return value;
}

/// The errors of `result` of one kind whose message contains `containing`.
template <class Result>
std::size_t count_errors(const Result& result, sweet_async::outcome kind,
                         std::string_view containing = {}) {
    std::size_t n = 0;
    for (const auto& error : result.errors())
        if (error.kind == kind && error.message.find(containing) != std::string::npos) ++n;
    return n;
}

/// Waits far longer than any test runs: only an interruption ends it (with an exception).
inline asio::awaitable<void> wait_an_hour() {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    co_await timer.async_wait(asio::use_awaitable);
}

/// A synchronous processor.
inline int twice(const int& x) {
    return 2 * x;
}

/// The seed's test id: a process-wide counter.
struct counter_id {
    std::uint64_t value = 0;

    static counter_id generate() {
        static std::atomic<std::uint64_t> next{1};
        return counter_id{next.fetch_add(1, std::memory_order_relaxed)};
    }
    std::string to_string() const { return fmt::format("TestTask-{}", value); }
    friend bool operator==(const counter_id&, const counter_id&) = default;
};

}  // namespace test_support

#endif  // SWEET_ASYNC_TESTS_TEST_SUPPORT_HPP
