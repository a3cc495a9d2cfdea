#!/usr/bin/env bash
# What `allocgate attach` adds to each audio callback: the same client
# program (client.c) run against a stand-in libjack (fakejack.c) that
# calls its process callback in a loop and times each call, once plainly
# and once under `allocgate attach` (the preload library wrapping the
# callback), alternating, ROUNDS rounds per callback kind. The only
# difference between the two runs of a pair is the wrapper.
#
#     bash benches/attach-overhead/measure.sh [ROUNDS]
#
# Environment passed to the stand-in: FAKEJACK_CALLS (timed calls per
# run, default 20000), FAKEJACK_WARMUP (1000), FAKEJACK_PERIOD_US (500),
# FAKEJACK_FRAMES (512). Prints one line per run and a summary;
# BENCHMARKS.md keeps the figures.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/benches/attach-overhead"
rounds="${1:-5}"
work="$repo/target/attach-overhead"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

(cd "$repo" && cargo build -q --release -p allocgate-tool -p allocgate-preload)
allocgate="$repo/target/release/allocgate"

cc -O2 -fPIC -shared -Wl,-soname,libjack.so.0 -o "$work/libjack.so.0" "$here/fakejack.c"
ln -s libjack.so.0 "$work/libjack.so"
cc -O2 -o "$work/client" "$here/client.c" -L"$work" -ljack
export LD_LIBRARY_PATH="$work${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

run() { # KIND with|without -> "median p99 mean"
    local line
    if [ "$2" = with ]; then
        "$allocgate" attach --out "$work/report.json" -- "$work/client" "$1" >"$work/out" 2>&1
        # The wrapper saw every call, and dropped none.
        grep -q ' 0 dropped' "$work/out" || { cat "$work/out"; echo "error: records dropped" >&2; exit 1; }
    else
        "$work/client" "$1" >"$work/out" 2>&1
    fi
    line=$(grep '^median_ns' "$work/out") || { cat "$work/out"; exit 1; }
    set -- $line
    echo "$2 $4 $6"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for kind in empty mix fir; do
    : >"$work/$kind.with"
    : >"$work/$kind.without"
    for round in $(seq "$rounds"); do
        # Alternate which goes first.
        if [ $((round % 2)) -eq 1 ]; then order="without with"; else order="with without"; fi
        for side in $order; do
            r=$(run "$kind" "$side")
            echo "$r" >>"$work/$kind.$side"
            printf 'round %d %-5s %-7s median %6s ns  p99 %6s ns  mean %8s ns\n' "$round" "$kind" "$side" $r
        done
    done
done

echo
echo "per kind: medians over rounds of each run's median (and p99) call time"
printf '%-6s %14s %14s %10s %8s %14s %14s\n' kind "without (ns)" "with (ns)" "added" ratio "p99 without" "p99 with"
for kind in empty mix fir; do
    w=$(cut -d' ' -f1 "$work/$kind.with" | median)
    wo=$(cut -d' ' -f1 "$work/$kind.without" | median)
    pw=$(cut -d' ' -f2 "$work/$kind.with" | median)
    pwo=$(cut -d' ' -f2 "$work/$kind.without" | median)
    printf '%-6s %14s %14s %10s %8s %14s %14s\n' "$kind" "$wo" "$w" \
        "$(awk "BEGIN { print $w - $wo }")" "$(awk "BEGIN { printf \"%.2f\", $w / $wo }")" "$pwo" "$pw"
done
