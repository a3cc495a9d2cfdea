#!/usr/bin/env bash
# What adding allocgate as a dev-dependency costs a user's project: the
# distinct crates its tests build and the time of a clean `cargo test`,
# with and without allocgate, measured side by side (alternating rounds,
# the same machine, the same registry cache, the same Cargo.lock versions
# for the crates both share).
#
#     bash benches/dev-dependency/measure.sh [ROUNDS]
#
# Prints one line per build and a summary; BENCHMARKS.md keeps the figures.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rounds="${1:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_project() { # NAME ALLOCGATE-LINE
    local dir="$work/$1"
    mkdir -p "$dir"
    cp -r "$repo/benches/dev-dependency/project/src" "$repo/benches/dev-dependency/project/tests" "$dir/"
    sed "s|@ALLOCGATE@|$2|" "$repo/benches/dev-dependency/project/Cargo.toml.in" > "$dir/Cargo.toml"
    # Without allocgate, its tests go; without its default feature, so
    # does the one that names sites.
    if [ -z "$2" ]; then rm "$dir/tests/allocgate.rs"; fi
    case "$2" in ""|*default-features*) rm "$dir/tests/allocgate_sites.rs" ;; esac
}
make_project without ""
make_project with "allocgate = { path = \"$repo\" }"
make_project lean "allocgate = { path = \"$repo\", default-features = false }"

# Resolve once; the shared crates get the same versions in both.
(cd "$work/with" && cargo generate-lockfile -q)
for p in without lean; do
    cp "$work/with/Cargo.lock" "$work/$p/Cargo.lock"
    (cd "$work/$p" && cargo update -q --workspace)
done

crates() { # the distinct crates cargo builds for `cargo test` on this host
    (cd "$work/$1" && cargo tree -q -e normal,dev,build --prefix none | sed 's/ (.*//' | sort -u | wc -l)
}
for p in without with lean; do
    echo "$p: $(crates $p) crates"
done

declare -A total=([without]=0 [with]=0 [lean]=0)
for round in $(seq "$rounds"); do
    for p in without with lean; do
        (cd "$work/$p" && cargo clean -q)
        start=$(date +%s.%N)
        if ! (cd "$work/$p" && cargo test -q >"$work/$p.log" 2>&1); then
            tail -20 "$work/$p.log"
            echo "error: cargo test failed in the '$p' project" >&2
            exit 1
        fi
        end=$(date +%s.%N)
        t=$(awk "BEGIN { print $end - $start }")
        total[$p]=$(awk "BEGIN { print ${total[$p]} + $t }")
        printf 'round %d %-8s clean cargo test %6.1f s\n' "$round" "$p" "$t"
    done
done
for p in without with lean; do
    printf '%-8s mean %6.1f s\n' "$p" "$(awk "BEGIN { print ${total[$p]} / $rounds }")"
done
