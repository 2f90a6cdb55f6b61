#!/usr/bin/env bash
# What a user builds without our CMake target, with nothing but include paths and their own flags:
#   1. every header of include/sweet_async/ first in a translation unit of its own (no macros,
#      no -D of ours): `$CXX -std=c++20 -I include -fsyntax-only`;
#   2. the documentation's listings (README.md, docs/**/*.md, integrations/redis/README.md but its
#      Redis listings) and examples/quickstart.cpp (README's first listing) compiled as a user's
#      -Werror build would: `g++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror`, so
#      that no listing makes a user silence a warning.
# Usage: .ci/plain_build.sh [--headers CXX] [--umbrella CXX] [--listings CXX]
#                           [-- EXTRA_FLAGS...]
#   --umbrella compiles <sweet_async/sweet_async.hpp> alone instead of every header (for a
#   standard or a library version whose include order the --headers run has proven already).
#   EXTRA_FLAGS (e.g. -I dirs of newer dependencies, -std=c++23, -stdlib=libc++) go to all.
#   Without --headers/--umbrella/--listings, both run: headers with clang++, listings with g++.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
headers_cxx="" umbrella_cxx="" listings_cxx=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --headers) headers_cxx="$2"; shift 2 ;;
    --umbrella) umbrella_cxx="$2"; shift 2 ;;
    --listings) listings_cxx="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--headers CXX] [--umbrella CXX] [--listings CXX] [-- EXTRA_FLAGS...]" >&2; exit 2 ;;
    esac
done
if [[ -z "${headers_cxx}${umbrella_cxx}${listings_cxx}" ]]; then headers_cxx=clang++ listings_cxx=g++; fi
extra=("$@")
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
jobs=$(nproc)

if [[ -n "${headers_cxx}" ]]; then
    headers=$(cd include && find sweet_async -name '*.hpp' | sort)
    echo "--- every header first, ${headers_cxx} -std=c++20 -I include ${extra[*]}"
    for header in ${headers}; do
        printf '#include <%s>\n#include <%s>\n' "${header}" "${header}" >"${work}/${header//\//_}.cpp"
    done
    # One compiler process per header, $(nproc) at a time; any failure fails the check.
    printf '%s\n' "${work}"/*.cpp | xargs -P "${jobs}" -I{} \
        "${headers_cxx}" -std=c++20 -I include "${extra[@]}" -fsyntax-only -Werror {}
    echo "$(wc -w <<<"${headers}") headers compile first, on their own"
fi

if [[ -n "${umbrella_cxx}" ]]; then
    echo "--- <sweet_async/sweet_async.hpp> first, ${umbrella_cxx} -std=c++20 -I include ${extra[*]}"
    printf '#include <sweet_async/sweet_async.hpp>\n' >"${work}/umbrella.cpp"
    "${umbrella_cxx}" -std=c++20 -I include "${extra[@]}" -fsyntax-only -Werror "${work}/umbrella.cpp"
    echo "the umbrella header compiles first"
fi

if [[ -n "${listings_cxx}" ]]; then
    python3 tests/readme/extract_listings.py "${work}/listings" README.md \
        $(find docs -name '*.md' | sort) integrations/redis/README.md >/dev/null
    cp examples/quickstart.cpp "${work}/listings/quickstart.cpp"
    flags=(-std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror -I include -I tests/readme "${extra[@]}")
    echo "--- documentation listings, ${listings_cxx} ${flags[*]}"
    printf '%s\n' "${work}"/listings/*.cpp | xargs -P "${jobs}" -I{} \
        "${listings_cxx}" "${flags[@]}" -c {} -o /dev/null
    echo "$(ls "${work}"/listings/*.cpp | wc -l) listings compile warnings-clean"
fi
