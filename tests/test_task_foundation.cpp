#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include <sweet_async/base/cancellation_level.hpp>
#include <sweet_async/base/error.hpp>
#include <sweet_async/base/min_max.hpp>
#include <sweet_async/base/task_id.hpp>
#include <sweet_async/base/task_options.hpp>
#include <sweet_async/base/task_priority.hpp>
#include <sweet_async/base/task_status.hpp>
#include <sweet_async/strategies/adaptive.hpp>
#include <sweet_async/strategies/parallel.hpp>

#include "sweet_async_catch.hpp"
#include "test_support.hpp"

namespace sa = sweet_async;
using namespace std::chrono_literals;

namespace foundation_test {
struct no_generate {
    std::string to_string() const { return "x"; }
    friend bool operator==(const no_generate&, const no_generate&) = default;
};
}  // namespace foundation_test
using foundation_test::no_generate;

TEST_CASE("task_id: uuid and a user counter qualify, a type without generate() does not",
          "[foundation]") {
    STATIC_REQUIRE(sa::task_id<sa::uuid>);
    STATIC_REQUIRE(sa::task_id<test_support::counter_id>);
    STATIC_REQUIRE_FALSE(sa::task_id<no_generate>);
    STATIC_REQUIRE_FALSE(sa::task_id<int>);
    const auto first = test_support::counter_id::generate();
    const auto second = test_support::counter_id::generate();
    CHECK(second.value == first.value + 1);
    CHECK(first.to_string() == fmt::format("TestTask-{}", first.value));
}

TEST_CASE("task_status: names, terminal states and formatting", "[foundation]") {
    CHECK(fmt::format("{}", sa::task_status::timed_out) == "timed_out");
    CHECK(fmt::format("{:>9}", sa::task_status::running) == "  running");
    CHECK_FALSE(sa::is_terminal(sa::task_status::pending));
    CHECK_FALSE(sa::is_terminal(sa::task_status::running));
    CHECK(sa::is_terminal(sa::task_status::completed));
    CHECK(sa::is_terminal(sa::task_status::failed));
    CHECK(sa::is_terminal(sa::task_status::cancelled));
    CHECK(sa::is_terminal(sa::task_status::timed_out));
    CHECK(fmt::format("{}", sa::task_priority::critical) == "critical");
    CHECK(fmt::format("{}", sa::cancellation_level::immediate) == "immediate");
}

TEST_CASE("errors: codes carry the sweet_async category and a message", "[foundation]") {
    const sweet_async::error_code ec = sa::async_task_error::closed;
    CHECK(ec.category().name() == std::string("sweet_async"));
    CHECK(ec.message() == "the task accepts no more events");
    CHECK(ec == sa::async_task_error::closed);
    CHECK(ec != sa::async_task_error::full);
    CHECK(fmt::format("{}", sa::async_task_error::invalid_configuration) ==
          "invalid_configuration");

    const sa::async_task_exception ex(sa::async_task_error::timeout, "task 'x' ran too long");
    CHECK(ex.code() == sa::async_task_error::timeout);
    CHECK_THAT(ex.what(), Catch::Contains("task 'x' ran too long"));
}

TEST_CASE("min_max: validity, membership, clamping, formatting", "[foundation]") {
    constexpr sa::min_max<int> workers{2, 8};
    STATIC_REQUIRE(workers.valid());
    STATIC_REQUIRE_FALSE(sa::min_max<int>{3, 1}.valid());
    CHECK(workers.contains(2));
    CHECK(workers.contains(8));
    CHECK_FALSE(workers.contains(9));
    CHECK(workers.clamp(1) == 2);
    CHECK(workers.clamp(20) == 8);
    CHECK(fmt::format("{}", workers) == "2..8");
    sa::min_max deduced{1.5, 2.5};
    STATIC_REQUIRE(std::is_same_v<decltype(deduced), sa::min_max<double>>);
}

TEST_CASE("min_max: the seed's spelling min_max{2, 4} works where a size range is wanted",
          "[foundation]") {
    // `sa::min_max{2, 4}` deduces min_max<int>; the strategies' bounds are std::size_t.
    const sa::parallel wide{.workers = sa::min_max{2, 4}};
    CHECK(wide.workers == sa::min_max<std::size_t>{2, 4});
    const sa::adaptive tuned{.workers = sa::min_max{1, 16}, .batch_sizes = sa::min_max{4, 64}};
    CHECK(tuned.workers == sa::min_max<std::size_t>{1, 16});
    CHECK(tuned.batch_sizes == sa::min_max<std::size_t>{4, 64});

    // A bound the range's type cannot hold is refused, never wrapped around.
    const auto to_sizes = [](sa::min_max<int> range) { return sa::min_max<std::size_t>(range); };
    CHECK_THROWS_WITH(to_sizes({-1, 4}),
                      "min_max{-1, 4}: the bound -1 is outside 0..18446744073709551615, what the "
                      "range's type holds");
    const auto to_chars = [](sa::min_max<int> range) { return sa::min_max<signed char>(range); };
    CHECK_THROWS_WITH(
        to_chars({1, 300}),
        "min_max{1, 300}: the bound 300 is outside -128..127, what the range's type holds");
    try {
        (void)to_sizes({-3, 4});
        FAIL("no exception");
    } catch (const sa::async_task_exception& e) {
        CHECK(e.code() == sa::async_task_error::invalid_configuration);
    }
}

TEST_CASE("task_options: invalid values are rejected naming the field and the value",
          "[foundation]") {
    sa::task_options options;
    options.name = "ingest";
    CHECK_NOTHROW(options.validate());

    options.timeout = -5ms;
    CHECK_THROWS_MATCHES(options.validate(), sa::async_task_exception,
                         Catch::Predicate<sa::async_task_exception>([](const auto& e) {
                             return e.code() == sa::async_task_error::invalid_configuration;
                         }));
    CHECK_THROWS_WITH(options.validate(), Catch::Contains("task 'ingest'") &&
                                              Catch::Contains("timeout") &&
                                              Catch::Contains("-5ms"));
    options.timeout = 0ms;
    CHECK_THROWS_WITH(options.validate(), Catch::Contains("timeout must be positive, got 0ns"));

    options.timeout.reset();
    options.capacity = 0;
    CHECK_THROWS_WITH(options.validate(), Catch::Contains("capacity must be at least 1, got 0"));
}
