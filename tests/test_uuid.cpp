#include <set>
#include <string>
#include <unordered_set>

#include <fmt/format.h>

#include <sweet_async/base/uuid.hpp>

#include "sweet_async_catch.hpp"

using sweet_async::uuid;

TEST_CASE("uuid: generated ids are random version 4, variant 1, and distinct", "[uuid]") {
    std::unordered_set<uuid> seen;
    for (int i = 0; i < 10000; ++i) {
        const uuid id = uuid::generate();
        CHECK(id.version() == 4);
        CHECK((id.low() >> 62) == 0x2);
        CHECK_FALSE(id.is_nil());
        seen.insert(id);
    }
    CHECK(seen.size() == 10000);
}

TEST_CASE("uuid: canonical text form round-trips", "[uuid]") {
    const uuid id(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    CHECK(id.to_string() == "01234567-89ab-cdef-fedc-ba9876543210");
    CHECK(fmt::format("{}", id) == id.to_string());
    CHECK(fmt::format("[{:>38}]", id) == "[  01234567-89ab-cdef-fedc-ba9876543210]");
    CHECK(uuid::parse(id.to_string()) == id);
    CHECK(uuid::parse("01234567-89AB-CDEF-FEDC-BA9876543210") == id);
    CHECK(uuid().to_string() == "00000000-0000-0000-0000-000000000000");
    const uuid random = uuid::generate();
    CHECK(uuid::from_string(random.to_string()) == random);
}

TEST_CASE("uuid: malformed text is rejected with a message naming it", "[uuid]") {
    CHECK_FALSE(uuid::parse(""));
    CHECK_FALSE(uuid::parse("01234567-89ab-cdef-fedc-ba987654321"));    // 35 chars
    CHECK_FALSE(uuid::parse("01234567-89ab-cdef-fedc-ba98765432100"));  // 37 chars
    CHECK_FALSE(uuid::parse("01234567_89ab-cdef-fedc-ba9876543210"));   // bad separator
    CHECK_FALSE(uuid::parse("0123456g-89ab-cdef-fedc-ba9876543210"));   // not hex
    CHECK_FALSE(uuid::parse("0123456789ab-cdef-fedc-ba98-76543210"));   // dashes misplaced
    CHECK_THROWS_WITH(uuid::from_string("not-a-uuid"),
                      Catch::Contains("'not-a-uuid'") && Catch::Contains("8-4-4-4-12"));
}

TEST_CASE("uuid: ordering and equality", "[uuid]") {
    const uuid a(1, 2);
    const uuid b(1, 3);
    const uuid c(2, 0);
    CHECK(a < b);
    CHECK(b < c);
    CHECK(a == uuid(1, 2));
    CHECK(a != b);
    std::set<uuid> ordered{c, a, b};
    CHECK(*ordered.begin() == a);
}
