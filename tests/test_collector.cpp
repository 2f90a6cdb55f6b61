#include <functional>
#include <string>
#include <vector>

#include <sweet_async/receiver/collector.hpp>
#include <sweet_async/receiver/fold_collector.hpp>

#include "sweet_async_catch.hpp"

namespace sa = sweet_async;

TEST_CASE("keyed collector: results are kept under their event ids", "[collector]") {
    const sa::uuid a = sa::uuid::generate();
    const sa::uuid b = sa::uuid::generate();
    const sa::uuid c = sa::uuid::generate();
    const sa::uuid d = sa::uuid::generate();

    sa::keyed_collector<std::string> collector;
    CHECK(collector.empty());
    collector.collect(a, "alpha");
    collector.collect_item({b, "beta"});
    std::vector<sa::keyed_entry<std::string>> more{{c, "gamma"}, {d, "delta"}};
    collector.collect_items(more);

    REQUIRE(collector.size() == 4);
    CHECK(collector.collected()[0].key == a);
    CHECK(collector.collected()[3].value == "delta");

    const sa::keyed_collection<std::string> collection = std::move(collector).collection();
    CHECK(collection.size() == 4);
    CHECK_FALSE(collection.empty());
    REQUIRE(collection.get(a) != nullptr);
    CHECK(*collection.get(a) == "alpha");
    CHECK(*collection.get(b) == "beta");
    CHECK(*collection.get(c) == "gamma");
    CHECK(*collection.get(d) == "delta");
    CHECK(collection.get(sa::uuid::generate()) == nullptr);
    CHECK(collection.contains(c));

    std::vector<std::string> in_order;
    for (const auto& entry : collection)
        in_order.push_back(entry.value);
    CHECK(in_order == std::vector<std::string>{"alpha", "beta", "gamma", "delta"});
}

TEST_CASE("keyed collection: lookups over many keys, the later duplicate wins", "[collector]") {
    sa::keyed_collector<int> collector;
    std::vector<sa::uuid> keys;
    for (int i = 0; i < 1000; ++i) {
        keys.push_back(sa::uuid::generate());
        collector.collect(keys.back(), i);
    }
    collector.collect(keys[10], -10);
    const auto collection = std::move(collector).collection();
    CHECK(collection.size() == 1001);
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(collection.get(keys[static_cast<std::size_t>(i)]) != nullptr);
        CHECK(*collection.get(keys[static_cast<std::size_t>(i)]) == (i == 10 ? -10 : i));
    }
    const sa::keyed_collection<int> empty;
    CHECK(empty.empty());
    CHECK(empty.get(keys[0]) == nullptr);
}

TEST_CASE("fold collector: keeps only the aggregate", "[collector]") {
    sa::fold_collector sum{std::size_t{0}, std::plus<>{}};
    STATIC_REQUIRE(sa::collector_for<decltype(sum), std::size_t>);
    for (std::size_t i = 1; i <= 100; ++i)
        sum.collect(sa::uuid::generate(), i);
    CHECK(sum.aggregate() == 5050);
    CHECK(sum.size() == 100);
    const auto collection = std::move(sum).collection();
    CHECK(collection.aggregate() == 5050);
    CHECK(collection.size() == 100);
    CHECK_FALSE(collection.empty());

    sa::fold_collector longest{std::string{}, [](std::string& best, const std::string& s) {
                                   if (s.size() > best.size()) best = s;
                               }};
    longest.collect(sa::uuid(), std::string("ab"));
    longest.collect(sa::uuid(), std::string("abcd"));
    longest.collect(sa::uuid(), std::string("abc"));
    CHECK(longest.aggregate() == "abcd");
}

TEST_CASE("collector concept: what qualifies", "[collector]") {
    STATIC_REQUIRE(sa::collector_for<sa::keyed_collector<int>, int>);
    STATIC_REQUIRE_FALSE(sa::collector_for<sa::keyed_collector<std::string>, std::vector<int>>);
    STATIC_REQUIRE_FALSE(sa::collector_for<int, int>);
}
