#!/usr/bin/env bash
# The library against the dependencies and compilers other platforms ship, from the upstream
# release trees in ../shared/deps/ (no network needed). Work directory: build/compat (the
# asan-ubuntu and tsan-newest presets of CMakePresets.json look for the dependencies there).
#   bash .ci/compat.sh prepare [DEPS_DIR]   unpack the archives into build/compat/deps and install
#                                           {fmt} 10, 11, 12 and Catch2 v3 into build/compat/prefix-*
#   bash .ci/compat.sh checks  [DEPS_DIR]   what needs no build of our own (.ci/plain_build.sh),
#       against Asio 1.38.2 and {fmt} 12: the umbrella header under clang++-16 with libstdc++ and
#       C++23, every header first and macro-free with libc++; the quickstart built and run on
#       libc++ (fmt header-only: nothing to build for libc++); then, compiled front end only
#       (.ci/syntax_check.py, from build/release's compile commands, each source after the umbrella
#       header precompiled), the examples by clang++ 14
#       and the examples and the benchmark by clang++-16 with C++23, Asio 1.38.2 and {fmt} 12
# (The documentation's listings against Asio 1.28.2 and {fmt} 10 are .ci/run's plain stage.)
# (DEPS_DIR defaults to ../shared/deps next to the repository.) The whole suite then runs against
# these in .ci/run, each combination where its build is needed anyway:
#   cmake --workflow --preset clang-asan-test    clang++ 14, Asio 1.28.2, {fmt} 11.2.0, Catch2 v2,
#                                                with ASan+UBSan
#   cmake --workflow --preset tsan-newest-test   clang++-16, C++23, Asio 1.38.2, {fmt} 12.2.0,
#                                                Catch2 3.7.1, with TSan (Debug)
#   cmake --workflow --preset asan-ubuntu-test   g++ 12, Asio 1.28.2, {fmt} 10.2.1, Catch2 v2,
#                                                with ASan+UBSan (not run by CI: the clang one is)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
mode=${1:-}
case "${mode}" in
prepare | checks) ;;
*) echo "usage: $0 prepare|checks [DEPS_DIR]" >&2; exit 2 ;;
esac
deps=${2:-${root}/../shared/deps}
if [[ ! -f "${deps}/asio-1.38.2.tar.xz" ]]; then
    echo "error: ${deps} does not hold the upstream archives (see ../shared/deps/README.md)" >&2
    exit 1
fi
deps=$(cd "${deps}" && pwd)
work=${root}/build/compat
src=${work}/deps
mkdir -p "${src}"

step() { echo; echo "--- compat: $*   (t+${SECONDS}s)"; }

# install_dependency NAME SOURCE_DIR CXX [CMAKE_ARGS...]: builds and installs a CMake project into
# ${work}/prefix-NAME with one job. Unoptimised: these builds are for linking our tests only.
install_dependency() {
    local name="$1" source="$2" cxx="$3"
    shift 3
    cmake -S "${source}" -B "${work}/build-${name}" -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_COMPILER="${cxx}" \
        -DCMAKE_INSTALL_PREFIX="${work}/prefix-${name}" "$@" >/dev/null
    cmake --build "${work}/build-${name}" -j1 >/dev/null
    cmake --install "${work}/build-${name}" >/dev/null
}

prepare() {
    step "unpack ${deps} into ${src}"
    local archive
    for archive in asio-1.28.2 asio-1.38.2 fmt-10.2.1 fmt-11.2.0 fmt-12.2.0 catch2-3.7.1; do
        [[ -d "${src}/${archive}" ]] || tar -xJf "${deps}/${archive}.tar.xz" -C "${src}"
    done
    # Catch2 v3 is the long one: it builds beside the three {fmt}s, one job each, and as one
    # translation unit (CMake's unity build: 8 s instead of 68 s of CPU, file by file).
    step "install Catch2 3.7.1 and {fmt} 10.2.1, 11.2.0, 12.2.0 (logs: ${work}/install-*.log)"
    install_dependency catch2-3 "${src}/catch2-3.7.1" clang++-16 -DCMAKE_CXX_STANDARD=23 \
        -DCATCH_INSTALL_DOCS=OFF -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=0 \
        >"${work}/install-catch2.log" 2>&1 &
    local catch2_pid=$!
    local failed=0
    {
        install_dependency fmt-10 "${src}/fmt-10.2.1" g++ -DFMT_TEST=OFF -DFMT_DOC=OFF &&
            install_dependency fmt-11 "${src}/fmt-11.2.0" g++ -DFMT_TEST=OFF -DFMT_DOC=OFF &&
            install_dependency fmt-12 "${src}/fmt-12.2.0" clang++-16 -DFMT_TEST=OFF -DFMT_DOC=OFF
    } >"${work}/install-fmt.log" 2>&1 || failed=1
    wait "${catch2_pid}" || failed=1
    if [[ ${failed} -ne 0 ]]; then
        tail -40 "${work}"/install-*.log
        exit 1
    fi
    ls -d "${work}"/prefix-*
}

checks() {
    local newest_includes=(-I "${src}/asio-1.38.2/include" -I "${src}/fmt-12.2.0/include")
    # Clang 16 spells C++23 c++2b (CMake's CXX_STANDARD 23 does that itself).
    # Every header first under libc++ (it includes less of the standard library transitively than
    # libstdc++ does, so a missing #include shows there); the umbrella header for C++23.
    # libc++ as Clang modules (its module map): each standard header is parsed once into the
    # cache, not once per header checked (69 s instead of 107 s), and a module makes visible only
    # what its header and those it exports declare, so the check is stricter, not looser (it
    # found <chrono> used for std::milli, which is <ratio>'s).
    step "umbrella header first, macro-free: clang++-16 -std=c++2b (C++23), Asio 1.38.2, {fmt} 12.2.0, libstdc++"
    bash .ci/plain_build.sh --umbrella clang++-16 -- -std=c++2b "${newest_includes[@]}"
    step "headers first, macro-free: clang++-16 -std=c++20 -stdlib=libc++ (as modules), Asio 1.38.2, {fmt} 12.2.0"
    bash .ci/plain_build.sh --headers clang++-16 -- -stdlib=libc++ -fmodules -fcxx-modules \
        -fmodules-cache-path="${work}/module-cache" "${newest_includes[@]}"
    step "quickstart on libc++: clang++-16 -stdlib=libc++, Asio 1.38.2, {fmt} 12.2.0 (header-only)"
    clang++-16 -std=c++20 -stdlib=libc++ -O1 -Wall -Wextra -Wpedantic -Werror -DFMT_HEADER_ONLY \
        -I include "${newest_includes[@]}" examples/quickstart.cpp -pthread -o "${work}/quickstart-libcxx"
    "${work}/quickstart-libcxx"

    # The examples and the benchmark, as the release tree builds them (its compile commands:
    # flags, definitions, include directories), by the other compilers, front end only.
    local release=build/release
    if [[ ! -f "${release}/compile_commands.json" ]]; then
        echo "error: ${release}/compile_commands.json is missing: configure the release preset" \
            "first (cmake --preset release)" >&2
        exit 1
    fi
    # (Clang 14 builds the whole suite in CI's clang-asan-test stage; of what only the release tree
    # compiles, the examples are what users copy.)
    step "examples: clang++ 14 -fsyntax-only, Asio 1.22.1, {fmt} 9 (the system's)"
    python3 .ci/syntax_check.py --under examples --precompile sweet_async/sweet_async.hpp "${release}" clang++
    step "examples and benchmark: clang++-16 -std=c++2b -fsyntax-only, Asio 1.38.2, {fmt} 12.2.0"
    python3 .ci/syntax_check.py --precompile sweet_async/sweet_async.hpp "${release}" clang++-16 -- \
        -std=c++2b "${newest_includes[@]}"
    echo "compat: every check passed"
}

"${mode}"
