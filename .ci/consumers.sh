#!/usr/bin/env bash
# Builds and runs the consumer projects of tests/consumers/ the way a user of the library would:
#   1. `cmake --install` into a fresh prefix, then tests/consumers/find_package against it
#      (find_package(sweet_async CONFIG REQUIRED) through CMAKE_PREFIX_PATH), and
#      tests/consumers/find_package_redis (the components redis and redis_tls, which need hiredis
#      and OpenSSL installed);
#   2. the installed sweet_async.pc: `pkg-config --cflags`, and the same program compiled with
#      nothing but the flags pkg-config gives;
#   3. tests/consumers/add_subdirectory, which builds sweet_async from this source tree.
# Run by `.ci/run` (stage consumers), or on its own: `bash .ci/consumers.sh`.
# Work directory: build/consumers, or $SWEET_ASYNC_CONSUMERS_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
work=${SWEET_ASYNC_CONSUMERS_DIR:-${root}/build/consumers}
prefix=${work}/prefix
mkdir -p "${work}"
# Release, like a user's build; only consumer targets are built, two jobs at most.
# What the consumers prove is the packaging (the package found, its targets, flags and link
# libraries): compiled without optimisation, which the release tree's builds cover.
cmake_args=(-DCMAKE_BUILD_TYPE=None)

step() { echo; echo "--- consumers: $*"; }

step "install sweet_async into ${prefix}"
rm -rf "${prefix}"
# Nothing to compile for a header-only install: tests, examples and benchmark stay off.
cmake -S "${root}" -B "${work}/sweet_async" "${cmake_args[@]}" \
    -DSWEET_ASYNC_BUILD_TESTS=OFF -DSWEET_ASYNC_BUILD_EXAMPLES=OFF -DSWEET_ASYNC_BUILD_BENCH=OFF
cmake --install "${work}/sweet_async" --prefix "${prefix}"

step "find_package(sweet_async CONFIG REQUIRED) against the installed package"
cmake -S "${root}/tests/consumers/find_package" -B "${work}/find_package" "${cmake_args[@]}" \
    -DCMAKE_PREFIX_PATH="${prefix}"
# The package must come from the fresh prefix, not from an older install somewhere else.
found_dir=$(sed -n 's/^sweet_async_DIR:[A-Z]*=//p' "${work}/find_package/CMakeCache.txt")
if [[ "${found_dir}" != "${prefix}"/* ]]; then
    echo "error: find_package found sweet_async in '${found_dir}', not below ${prefix}" >&2
    exit 1
fi
echo "sweet_async_DIR=${found_dir}"
cmake --build "${work}/find_package" -j2 --target consumer
"${work}/find_package/consumer"

step "find_package(sweet_async CONFIG REQUIRED COMPONENTS redis redis_tls): sweet_async::redis and its TLS, installed"
cmake -S "${root}/tests/consumers/find_package_redis" -B "${work}/find_package_redis" \
    "${cmake_args[@]}" -DCMAKE_PREFIX_PATH="${prefix}"
cmake --build "${work}/find_package_redis" -j2 --target redis_consumer
"${work}/find_package_redis/redis_consumer"

step "pkg-config sweet_async"
pc_dir=$(dirname "$(find "${prefix}" -name sweet_async.pc -print -quit)")
export PKG_CONFIG_PATH="${pc_dir}${PKG_CONFIG_PATH:+:${PKG_CONFIG_PATH}}"
pkg-config --validate sweet_async
echo "version: $(pkg-config --modversion sweet_async)"
cflags=$(pkg-config --cflags sweet_async)
libs=$(pkg-config --libs sweet_async)
echo "cflags: ${cflags}"
echo "libs:   ${libs}"
# The .pc file locates the prefix relative to itself (${pcfiledir}/../..): one of the include
# directories it names must be the prefix's.
include_ok=false
for flag in ${cflags}; do
    if [[ "${flag}" == -I* && "$(realpath -m "${flag#-I}")" == "$(realpath -m "${prefix}/include")" ]]
    then
        include_ok=true
    fi
done
if [[ "${include_ok}" != true ]]; then
    echo "error: pkg-config --cflags sweet_async names no -I for ${prefix}/include" >&2
    exit 1
fi
# -O0: this checks that the flags suffice to compile, link and run, not the code's speed.
# shellcheck disable=SC2086 # the flags are meant to be split into words
"${CXX:-c++}" -std=c++20 -O0 -o "${work}/pkg_config_consumer" \
    "${root}/tests/consumers/main.cpp" ${cflags} ${libs}
"${work}/pkg_config_consumer"

step "add_subdirectory(sweet_async) from the source tree"
cmake -S "${root}/tests/consumers/add_subdirectory" -B "${work}/add_subdirectory" \
    "${cmake_args[@]}"
cmake --build "${work}/add_subdirectory" -j2 --target consumer
"${work}/add_subdirectory/consumer"

step "all consumers built and ran"
