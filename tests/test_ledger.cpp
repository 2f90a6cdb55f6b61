// The ledger: each event's outcome recorded once, errors retained up to a limit and counted
// beyond it, the final event kept whole.
#include <sweet_async/sweet_async.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <fmt/format.h>

#include <sweet_async/receiver/detail/reorder_ring.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using test_support::check_accounting;
using test_support::run;

namespace {

/// Fails every odd payload, with a message naming it.
int fail_odd(const int& value) {
    if (value % 2 != 0) throw std::runtime_error(fmt::format("odd payload {}", value));
    return value;
}

}  // namespace

TEST_CASE("ledger: the first retain_errors errors are kept in full, the rest counted",
          "[ledger][failure]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .name("retention")
                    .capacity(4096)
                    .retain_errors(100)
                    .receiver(sa::serial{}, fail_odd)
                    .start_queue();
    for (int i = 0; i < 2000; ++i)
        REQUIRE_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });

    CHECK(result.status() == sa::task_status::completed);
    CHECK(result.stats().sent == 2000);
    CHECK(result.stats().processed == 1000);
    CHECK(result.stats().failed == 1000);
    REQUIRE(result.errors().size() == 100);
    CHECK(result.errors_not_retained() == 900);
    for (std::size_t i = 0; i < result.errors().size(); ++i) {
        const auto& error = result.errors()[i];
        CHECK(error.kind == sa::outcome::failed);
        CHECK(error.sequence == 2 * i + 1);  // the first to end, in order
        CHECK(error.message == fmt::format("odd payload {}", 2 * i + 1));
    }
    CHECK_THAT(fmt::format("{}", result), Catch::EndsWith("(900 errors not retained)"));
    check_accounting(result);
}

TEST_CASE("ledger: retain_errors(0) keeps none, the default keeps 1000", "[ledger][failure]") {
    asio::io_context io;
    auto none = sa::emitting_builder<int>(io)
                    .capacity(4096)
                    .retain_errors(0)
                    .receiver(sa::serial{}, fail_odd)
                    .start_queue();
    auto by_default =
        sa::emitting_builder<int>(io).capacity(4096).receiver(sa::serial{}, fail_odd).start_queue();
    CHECK(by_default.options().retained_errors == 1000);
    for (int i = 0; i < 2400; ++i) {
        REQUIRE_FALSE(none.try_send(i));
        REQUIRE_FALSE(by_default.try_send(i));
    }
    none.close();
    by_default.close();
    auto kept_none = run(io, [&] { return none.wait(); });
    auto kept_default = run(io, [&] { return by_default.wait(); });
    CHECK(kept_none.errors().empty());
    CHECK(kept_none.errors_not_retained() == 1200);
    CHECK(kept_default.errors().size() == 1000);
    CHECK(kept_default.errors_not_retained() == 200);
    check_accounting(kept_none);
    check_accounting(kept_default);
}

TEST_CASE("ledger: under the limit nothing is dropped and the summary says nothing of it",
          "[ledger]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .retain_errors(std::numeric_limits<std::size_t>::max())
                    .receiver(sa::serial{}, fail_odd)
                    .start_queue();
    for (int i = 0; i < 10; ++i)
        REQUIRE_FALSE(task.try_send(i));
    task.close();
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.errors().size() == 5);
    CHECK(result.errors_not_retained() == 0);
    CHECK(fmt::format("{}", result).find("not retained") == std::string::npos);
    check_accounting(result);
}

TEST_CASE("ledger: a final event that failed past the limit is still handed back whole",
          "[ledger][failure]") {
    asio::io_context io;
    auto task = sa::emitting_builder<int>(io)
                    .retain_errors(1)
                    .receiver(sa::serial{}, fail_odd)
                    .start_queue();
    for (int i = 1; i < 7; i += 2)
        REQUIRE_FALSE(task.try_send(i));
    REQUIRE_FALSE(task.try_send_final(7));
    auto result = run(io, [&] { return task.wait(); });
    CHECK(result.stats().failed == 4);
    CHECK(result.errors().size() == 1);
    CHECK(result.errors_not_retained() == 3);
    REQUIRE(result.final_event().has_value());
    CHECK(result.final_event()->payload() == 7);
    check_accounting(result);
}

TEST_CASE("reorder ring: values come out in number order, whatever order they arrive in",
          "[ledger][order]") {
    sa::detail::reorder_ring<std::string> ring;
    std::vector<std::string> released;
    auto release = [&](std::string&& value) { released.push_back(std::move(value)); };

    SECTION("a shuffled stream, spread wider than the ring at first") {
        std::vector<std::uint64_t> numbers(5000);
        std::iota(numbers.begin(), numbers.end(), 0);
        std::mt19937_64 shuffle(20261203);
        // Shuffled within windows of 300, so values overtake by up to 299.
        for (std::size_t begin = 0; begin < numbers.size(); begin += 300) {
            const auto end = std::min(numbers.size(), begin + 300);
            std::shuffle(numbers.begin() + static_cast<std::ptrdiff_t>(begin),
                         numbers.begin() + static_cast<std::ptrdiff_t>(end), shuffle);
        }
        for (const auto number : numbers) {
            const std::size_t before = released.size();
            ring.arrive(number, fmt::format("v{}", number), release);
            // Released exactly when every smaller number is in.
            CHECK((released.size() > before) == (ring.next() > number));
        }
        REQUIRE(released.size() == numbers.size());
        for (std::size_t i = 0; i < released.size(); ++i)
            CHECK(released[i] == fmt::format("v{}", i));
        CHECK(ring.next() == numbers.size());
    }
    SECTION("one slow value holds back those that overtook it, then releases them all") {
        for (std::uint64_t number = 1; number < 100; ++number)
            ring.arrive(number, fmt::format("v{}", number), release);
        CHECK(released.empty());
        ring.arrive(0, "v0", release);
        REQUIRE(released.size() == 100);
        CHECK(released.front() == "v0");
        CHECK(released.back() == "v99");
        ring.arrive(100, "v100", release);
        CHECK(released.size() == 101);
    }
}
