#!/usr/bin/env bash
# The library against the dependencies and compilers other platforms ship, from the upstream
# release trees in ../shared/deps/ (no network needed). Run by `.ci/run` (stage compat), or alone:
#   bash .ci/compat.sh [DEPS_DIR]        (default: ../shared/deps next to the repository)
# Work directory: build/compat, or $SWEET_ASYNC_COMPAT_DIR.
#
# Two full builds run side by side, one core each; each builds the tests, the examples, the README
# listings (and, for the newest Asio, the benchmark) warnings-clean, then runs the whole suite:
#   newest:  clang++-16, -std=c++23, Asio 1.38.2, {fmt} 12.2.0, Catch2 v3.7.1
#   ubuntu:  g++ 12,     -std=c++20, Asio 1.28.2, {fmt} 10.2.1, Catch2 v2 (Debian's)
# It also installs {fmt} 11.2.0 (build/compat/prefix-fmt-11), which .ci/run's TSan stage then
# builds and runs the suite against. Then what needs no build tree (.ci/plain_build.sh): every header first and macro-free under
# clang++-16 with libstdc++ and with libc++ against the newest Asio and {fmt} 12, and the
# README's listings with g++ against Asio 1.28 and {fmt} 11; and the quickstart built and run on
# libc++ (fmt header-only, so that no library needs building for libc++).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
deps=${1:-${root}/../shared/deps}
if [[ ! -f "${deps}/asio-1.38.2.tar.xz" ]]; then
    echo "error: ${deps} does not hold the upstream archives (see ../shared/deps/README.md)" >&2
    exit 1
fi
deps=$(cd "${deps}" && pwd)
work=${SWEET_ASYNC_COMPAT_DIR:-${root}/build/compat}
src=${work}/deps
mkdir -p "${src}"

step() { echo; echo "--- compat: $*   (t+${SECONDS}s)"; }

step "unpack ${deps} into ${src}"
for archive in asio-1.28.2 asio-1.38.2 fmt-10.2.1 fmt-11.2.0 fmt-12.2.0 catch2-3.7.1; do
    [[ -d "${src}/${archive}" ]] || tar -xJf "${deps}/${archive}.tar.xz" -C "${src}"
done

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

# combination NAME CXX STD ASIO PREFIX_PATH [CMAKE_ARGS...]: our build and suite, one job.
combination() {
    local name="$1" cxx="$2" std="$3" asio="$4" prefix_path="$5"
    shift 5
    local tree="${work}/${name}"
    cmake -S "${root}" -B "${tree}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="${cxx}" \
        -DCMAKE_CXX_STANDARD="${std}" -DAsio_ROOT="${src}/${asio}" \
        -DCMAKE_PREFIX_PATH="${prefix_path}" -DSWEET_ASYNC_FETCH_DEPENDENCIES=OFF \
        -DSWEET_ASYNC_CHECK_HEADERS=OFF "$@"
    cmake --build "${tree}" -j1
    ctest --test-dir "${tree}" --output-on-failure
}

newest() {
    install_dependency fmt-12 "${src}/fmt-12.2.0" clang++-16 -DFMT_TEST=OFF -DFMT_DOC=OFF
    install_dependency catch2-3 "${src}/catch2-3.7.1" clang++-16 -DCMAKE_CXX_STANDARD=23 \
        -DCATCH_INSTALL_DOCS=OFF
    combination newest clang++-16 23 asio-1.38.2 "${work}/prefix-fmt-12;${work}/prefix-catch2-3"
}

ubuntu() {
    install_dependency fmt-10 "${src}/fmt-10.2.1" g++ -DFMT_TEST=OFF -DFMT_DOC=OFF
    # For the tsan-test stage of .ci/run, which runs the suite against it.
    install_dependency fmt-11 "${src}/fmt-11.2.0" g++ -DFMT_TEST=OFF -DFMT_DOC=OFF
    combination ubuntu g++ 20 asio-1.28.2 "${work}/prefix-fmt-10" -DSWEET_ASYNC_BUILD_BENCH=OFF
}

step "two combinations in parallel (logs: ${work}/newest.log, ${work}/ubuntu.log)"
newest >"${work}/newest.log" 2>&1 &
newest_pid=$!
ubuntu >"${work}/ubuntu.log" 2>&1 &
ubuntu_pid=$!
failed=()
wait "${newest_pid}" || failed+=(newest)
wait "${ubuntu_pid}" || failed+=(ubuntu)
for name in newest ubuntu; do
    step "${name}: the end of its log"
    grep -E "sweet_async: |tests passed|tests failed|FAILED|Error|error:" "${work}/${name}.log" | tail -25 || true
done
if [[ ${#failed[@]} -gt 0 ]]; then
    for name in "${failed[@]}"; do
        step "${name} FAILED: its last 80 lines"
        tail -80 "${work}/${name}.log"
    done
    exit 1
fi

newest_includes=(-I "${src}/asio-1.38.2/include" -I "${src}/fmt-12.2.0/include")
# Clang 16 spells C++23 c++2b (CMake's CXX_STANDARD 23 above does that itself).
step "headers first, macro-free: clang++-16 -std=c++2b (C++23), Asio 1.38.2, {fmt} 12.2.0, libstdc++"
bash .ci/plain_build.sh --headers clang++-16 -- -std=c++2b "${newest_includes[@]}"
step "headers first, macro-free: clang++-16 -std=c++20 -stdlib=libc++, Asio 1.38.2, {fmt} 12.2.0"
bash .ci/plain_build.sh --headers clang++-16 -- -stdlib=libc++ "${newest_includes[@]}"
step "README listings, user flags: g++, Asio 1.28.2, {fmt} 11.2.0 (header-only)"
bash .ci/plain_build.sh --listings g++ -- -I "${src}/asio-1.28.2/include" \
    -I "${src}/fmt-11.2.0/include" -DFMT_HEADER_ONLY

step "quickstart on libc++: clang++-16 -stdlib=libc++, Asio 1.38.2, {fmt} 12.2.0 (header-only)"
clang++-16 -std=c++20 -stdlib=libc++ -O1 -Wall -Wextra -Wpedantic -Werror -DFMT_HEADER_ONLY \
    -I include "${newest_includes[@]}" examples/quickstart.cpp -pthread -o "${work}/quickstart-libcxx"
"${work}/quickstart-libcxx"
echo "compat: every combination passed"
