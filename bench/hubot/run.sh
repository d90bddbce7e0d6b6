#!/usr/bin/env bash
# Hubot's chat dispatch, measured like OpsRobot's shell chat in bench/run: LINES lines `!echo line N` piped into
# one Node process (bench.js: Hubot 14.1.0 with a stdin/stdout adapter), wall clock from process start until
# the process exits after the last reply, start-up included. Once with 1 listener, once with 1,000.
#
#   bench/hubot/run.sh [TMPDIR]     LINES=10000 by default
#
# Prints two tab-separated lines on stdout:
#   hubot, 1 listener<TAB>LINES_PER_SECOND
#   hubot, 1000 listeners<TAB>LINES_PER_SECOND
# Progress and Hubot's own dispatch-only figures go to stderr. Exits non-zero, with a clear message, if npm
# cannot install hubot or a run does not answer every line.
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
lines="${LINES:-10000}"
if [ $# -ge 1 ] && [ -n "$1" ]; then
  dir="$1"
  mkdir -p "$dir"
else
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' EXIT
fi

command -v node >/dev/null || { echo "hubot bench: node not found" >&2; exit 1; }
command -v npm >/dev/null || { echo "hubot bench: npm not found" >&2; exit 1; }

cp "$here/package.json" "$here/bench.js" "$dir/"
echo "==> installing hubot 14.1.0 into $dir (node $(node --version))" >&2
if ! npm install --no-audit --no-fund --prefix "$dir" >"$dir/npm.log" 2>&1; then
  tail -n 20 "$dir/npm.log" >&2
  echo "hubot bench: npm install failed (see above); no Hubot figures" >&2
  exit 1
fi
version="$(node -p 'require(process.argv[1]).version' "$dir/node_modules/hubot/package.json" 2>/dev/null || true)"
if [ "$version" != "14.1.0" ]; then
  echo "hubot bench: expected hubot 14.1.0 in $dir/node_modules, found '${version:-nothing}'" >&2
  exit 1
fi

seq 1 "$lines" | sed 's/^/!echo line /' > "$dir/lines.txt"

now_ns() { date +%s%N; }

# run LISTENERS: prints lines per second, start-up included.
run() {
  local n="$1" t0 t1 ms replies
  t0="$(now_ns)"
  (cd "$dir" && node bench.js "$n" "$lines" < lines.txt > "replies-$n.txt" 2> "stats-$n.txt")
  t1="$(now_ns)"
  replies="$(wc -l < "$dir/replies-$n.txt")"
  if [ "$replies" -ne "$lines" ]; then
    cat "$dir/stats-$n.txt" >&2
    echo "hubot bench: $n listeners: expected $lines replies, got $replies" >&2
    return 1
  fi
  ms="$(( (t1 - t0) / 1000000 ))"
  awk -F'\t' -v ms="$ms" '{printf "==> hubot, %s listeners: %d lines, %d ms total; dispatch only %s ms, %s lines/s\n", $1, $2, ms, $5, $6}' "$dir/stats-$n.txt" >&2
  awk -v n="$lines" -v ms="$ms" 'BEGIN {printf "%.0f\n", n / (ms / 1000)}'
}

rate1="$(run 1)"
rate1000="$(run 1000)"
printf 'hubot, 1 listener\t%s\n' "$rate1"
printf 'hubot, 1000 listeners\t%s\n' "$rate1000"
