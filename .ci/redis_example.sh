#!/usr/bin/env bash
# Runs examples/redis/distributed_log_digest (loader, N worker processes, reducer) against a
# redis-server of its own (free loopback port, temporary directory), and checks that its report
# is log_digest's, line for line (traffic and errors; the accounting differs by design).
#   bash .ci/redis_example.sh BUILD_DIR [WORKERS]     (BUILD_DIR: a tree that built the examples)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:?usage: $0 BUILD_DIR [WORKERS]}
workers=${2:-3}
distributed=${build}/examples/redis/distributed_log_digest
if [[ ! -x "${distributed}" ]]; then
    echo "redis example: ${distributed} was not built (no hiredis?)" >&2
    exit 1
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "${server_pid}" ]]; then kill "${server_pid}" 2>/dev/null || true; wait "${server_pid}" 2>/dev/null || true; fi
    rm -rf "${work}"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "${port}" --bind 127.0.0.1 --dir "${work}" --save "" --appendonly no \
    --logfile "${work}/redis.log" &
server_pid=$!
for _ in $(seq 1 400); do
    redis-cli -p "${port}" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05 # polls the server's start
done
redis-cli -p "${port}" ping | grep -q PONG

"${build}/examples/log_digest" >"${work}/single.txt"
"${distributed}" --workers "${workers}" --redis "127.0.0.1:${port}" | tee "${work}/distributed.txt"

report() { awk '/^requests  /{shown=1} /^accounting/{shown=0} shown' "$1"; }
if ! diff <(report "${work}/single.txt") <(report "${work}/distributed.txt"); then
    echo "redis example: the distributed report differs from log_digest's (diff above)" >&2
    exit 1
fi
echo "redis example: ${workers} worker processes, the same report as log_digest ($(report "${work}/single.txt" | wc -l) lines)"
