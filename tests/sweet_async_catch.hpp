// The one place the tests include Catch2, so that they build unchanged against Catch2 v2 (the
// single header Debian 12 ships) and Catch2 v3 (split headers, what most other platforms ship).
// tests/CMakeLists.txt defines SWEET_ASYNC_CATCH2_V3 when it links against Catch2 v3.
//
// The tests are written in v2 spelling. v3 moved every matcher into Catch::Matchers, renamed the
// substring matcher Contains to ContainsSubstring and no longer puts Approx in the global
// namespace; the v3 branch brings those names back to where v2 had them.
#ifndef SWEET_ASYNC_TESTS_SWEET_ASYNC_CATCH_HPP
#define SWEET_ASYNC_TESTS_SWEET_ASYNC_CATCH_HPP

#ifdef SWEET_ASYNC_CATCH2_V3

#include <string>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/interfaces/catch_interfaces_capture.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_predicate.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

namespace Catch {

using Matchers::EndsWith;
using Matchers::Equals;
using Matchers::Predicate;
using Matchers::StartsWith;

// In v3, Matchers::Contains is the range matcher; the string one is ContainsSubstring.
inline Matchers::StringContainsMatcher Contains(const std::string& str,
                                                CaseSensitive sensitivity = CaseSensitive::Yes) {
    return Matchers::ContainsSubstring(str, sensitivity);
}

}  // namespace Catch

using Catch::Approx;

#else

#include <catch2/catch.hpp>

#endif

#endif  // SWEET_ASYNC_TESTS_SWEET_ASYNC_CATCH_HPP
