#include <chrono>
#include <memory>
#include <string>

#include <fmt/format.h>

#include <sweet_async/base/event.hpp>
#include <sweet_async/base/event_view.hpp>

#include "sweet_async_catch.hpp"

namespace sa = sweet_async;

TEST_CASE("event: identity, payload, type and creation time", "[event]") {
    const sa::uuid task = sa::uuid::generate();
    const auto before = sa::event_clock::now();
    const sa::event<std::string> e(task, "payload");
    const auto after = sa::event_clock::now();

    CHECK(e.id().version() == 4);
    CHECK(e.task_id() == task);
    CHECK(e.payload() == "payload");
    CHECK(e.type() == sa::streaming_event_type::continuing);
    CHECK_FALSE(e.is_final());
    CHECK(e.error_message().empty());
    CHECK(e.created() >= before);
    CHECK(e.created() <= after);
    CHECK_FALSE(e.started().has_value());
    CHECK_FALSE(e.completed().has_value());

    const sa::event<std::string> other(task, "payload");
    CHECK(other.id() != e.id());
}

TEST_CASE("event builder: the payload is required, the rest is optional", "[event]") {
    const sa::uuid task = sa::uuid::generate();
    const sa::uuid chosen = sa::uuid::generate();
    const auto when = sa::event_clock::time_point(std::chrono::seconds(1'700'000'000));

    auto final_event = sa::event<int>::builder(task, 7).id(chosen).final().created(when).build();
    CHECK(final_event.id() == chosen);
    CHECK(final_event.payload() == 7);
    CHECK(final_event.type() == sa::streaming_event_type::final);
    CHECK(final_event.is_final());
    CHECK(final_event.created() == when);

    auto error_event = sa::event<int>::builder(task, 1).error("disk full").build();
    CHECK(error_event.type() == sa::streaming_event_type::error);
    CHECK(error_event.is_final());
    CHECK(error_event.error_message() == "disk full");

    auto cancel_event = sa::event<int>::builder(task, 1).payload(2).cancellation().build();
    CHECK(cancel_event.type() == sa::streaming_event_type::cancellation);
    CHECK(cancel_event.payload() == 2);
    CHECK(cancel_event.is_final());

    auto typed =
        sa::event<int>::builder(task, 3).type(sa::streaming_event_type::continuing).build();
    CHECK_FALSE(typed.is_final());
}

TEST_CASE("event: move-only payloads move through and out", "[event]") {
    sa::event<std::unique_ptr<int>> e(sa::uuid::generate(), std::make_unique<int>(42));
    const sa::uuid id = e.id();
    sa::event<std::unique_ptr<int>> moved = std::move(e);
    CHECK(moved.id() == id);
    REQUIRE(moved.payload() != nullptr);
    std::unique_ptr<int> out = std::move(moved).payload();
    REQUIRE(out != nullptr);
    CHECK(*out == 42);
}

TEST_CASE("event_view: a read-only view of the event being processed", "[event]") {
    const auto e = sa::event<std::string>::builder(sa::uuid::generate(), "x").final().build();
    const sa::event_view<std::string> view(e);
    CHECK(view.id() == e.id());
    CHECK(view.task_id() == e.task_id());
    CHECK(view.payload() == "x");
    CHECK(view.is_final());
    CHECK(view.type() == sa::streaming_event_type::final);
    CHECK(view.created() == e.created());
    CHECK(&view.inner() == &e);
}

TEST_CASE("event: formatting shows id, task, type and a formattable payload", "[event]") {
    const sa::uuid task(0, 1);
    const auto e = sa::event<int>::builder(task, 5).id(sa::uuid(0, 2)).error("boom").build();
    CHECK(fmt::format("{}", e) ==
          "event{id=00000000-0000-0000-0000-000000000002, "
          "task=00000000-0000-0000-0000-000000000001, type=error, payload=5, error=\"boom\"}");
    CHECK(fmt::format("{}", sa::streaming_event_type::cancellation) == "cancellation");
}
