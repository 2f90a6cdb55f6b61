// Helpers shared by the tests: running coroutines to completion, test ids.
#ifndef SWEET_ASYNC_TESTS_TEST_SUPPORT_HPP
#define SWEET_ASYNC_TESTS_TEST_SUPPORT_HPP

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <fmt/format.h>

#include <sweet_async/config.hpp>

namespace test_support {

/// Runs the coroutine made by `make()` on `io` until `io` has no more work,
/// and returns its value (or rethrows its exception).
template <class MakeCoroutine>
auto run(asio::io_context& io, MakeCoroutine&& make) {
    auto result = asio::co_spawn(io, std::forward<MakeCoroutine>(make)(), asio::use_future);
    io.restart();
    io.run();
    return result.get();
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
