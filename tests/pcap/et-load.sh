#!/usr/bin/env bash
# Loads every rule file of ../shared/rules/et-open with `caracal -T` and checks:
#   - the test mode exits 0;
#   - "N rule files processed" names every file;
#   - the loaded count is at least the ratchet in et-load.ratchet (raise the
#     ratchet when more rules load; never lower it without a reason);
#   - every rejection has one of the allowed reasons (protocols and keywords
#     caracal does not support yet), the tally adds up to the failed count,
#     and each failed rule was reported on stderr as FILE:LINE: reason;
#   - a second load with the same Hyperscan cache compiles nothing.
# Prints the tally and "et-load: L of T rules loaded (P%)".
# Skips (77) without ../shared/rules/et-open.
# Env: CARACAL, TOP_SRCDIR (defaults ./src/caracal, the repo root).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${CARACAL:=$TOP_BUILDDIR/src/caracal}"
export TZ=UTC

rules="$TOP_SRCDIR/../shared/rules/et-open"
ratchet_file="$TOP_SRCDIR/tests/pcap/et-load.ratchet"
if [ ! -d "$rules" ]; then
    echo "et-load: SKIP: $rules not found"
    exit 77
fi
shopt -s nullglob
files=("$rules"/*.rules)
if [ ${#files[@]} -eq 0 ]; then
    echo "et-load: SKIP: no .rules files in $rules"
    exit 77
fi
if [ ! -x "$CARACAL" ]; then
    echo "et-load: FAIL: $CARACAL is not executable"
    exit 1
fi
ratchet=$(grep -v '^[[:space:]]*#' "$ratchet_file" 2>/dev/null | grep -m1 -o '[0-9]\+')
if [ -z "$ratchet" ]; then
    echo "et-load: FAIL: no number in $ratchet_file"
    exit 1
fi

# Reasons a rule of the 2024 ET Open set may be rejected for, as extended regexps.
allowed=(
    "^unsupported protocol '(smtp|ftp|ftp-data|smb|ssh|dcerpc)'\$"
    "^unsupported keyword '(asn1|ftpbounce)'\$"
    "^'dotprefix' must directly follow the sticky buffer \(a transform after a content is not supported\)\$"
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/caracal-et-load.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

args=()
for f in "${files[@]}"; do
    args+=(-S "$f")
done
run() { # $1: output prefix
    "$CARACAL" -c "$TOP_SRCDIR/etc/caracal.yaml" -T \
        --set "detect.sgh-mpm-caching-path=$tmp/hs" "${args[@]}" >"$tmp/$1.out" 2>"$tmp/$1.err"
}

fail=0
bad() {
    echo "et-load: FAIL: $*"
    fail=1
}

run cold
rc=$?
[ "$rc" -eq 0 ] || bad "caracal -T exited $rc (stderr: $(grep -v ':[0-9]*: ' "$tmp/cold.err" | head -5))"

summary=$(grep -E '^[0-9]+ rule files processed\. [0-9]+ rules successfully loaded, [0-9]+ rules failed$' \
    "$tmp/cold.out")
if [ -z "$summary" ]; then
    bad "no summary line in the output:"
    sed 's/^/  | /' "$tmp/cold.out" | head -20
    exit 1
fi
read -r nfiles loaded failed <<<"$(echo "$summary" |
    sed -E 's/^([0-9]+) rule files processed\. ([0-9]+) rules successfully loaded, ([0-9]+) rules failed$/\1 \2 \3/')"
total=$((loaded + failed))

[ "$nfiles" -eq "${#files[@]}" ] ||
    bad "\"$nfiles rule files processed\", expected ${#files[@]}"
[ "$loaded" -ge "$ratchet" ] ||
    bad "$loaded rules loaded, below the ratchet of $ratchet ($ratchet_file)"

# The tally: the lines after "rules rejected, by reason:".
awk '/^rules rejected, by reason:$/ { on = 1; next }
     on && /^ +[0-9]+  / { sub(/^ +/, ""); print; next }
     on { on = 0 }' "$tmp/cold.out" >"$tmp/tally"
echo "et-load: rejections by reason:"
tallied=0
while IFS= read -r line; do
    n=${line%%  *}
    reason=${line#*  }
    tallied=$((tallied + n))
    ok=0
    for re in "${allowed[@]}"; do
        if printf '%s\n' "$reason" | grep -Eq -- "$re"; then
            ok=1
            break
        fi
    done
    if [ $ok -eq 1 ]; then
        printf '  %6u  %s\n' "$n" "$reason"
    else
        printf '  %6u  %s   <-- not an allowed reason\n' "$n" "$reason"
        bad "rejection reason not allowed: $reason ($n rules); e.g.:"
        grep -F -- ": $reason" "$tmp/cold.err" | head -3 | sed 's/^/  | /'
    fi
done <"$tmp/tally"
[ "$tallied" -eq "$failed" ] || bad "the tally adds up to $tallied, but $failed rules failed"
reported=$(grep -cE '\.rules:[0-9]+: ' "$tmp/cold.err")
[ "$reported" -eq "$failed" ] ||
    bad "$reported rules reported as FILE:LINE on stderr, but $failed rules failed"
unreadable=$(grep -c 'cannot read rule file' "$tmp/cold.err")
[ "$unreadable" -eq 0 ] || bad "$unreadable rule files could not be read"

# Warm: the same rules again, every Hyperscan database from the cache.
run warm
rc=$?
[ "$rc" -eq 0 ] || bad "second caracal -T exited $rc"
grep -qxF "$summary" "$tmp/warm.out" || bad "second load reports differently: $(grep 'rule files processed' "$tmp/warm.out")"
compiled=$(sed -nE 's/^rule load: .*\(([0-9]+) Hyperscan databases? compiled, ([0-9]+) from the cache\)$/\1 \2/p' \
    "$tmp/warm.out")
if [ -n "$compiled" ]; then
    read -r ncompiled ncached <<<"$compiled"
    echo "et-load: warm load: $ncompiled Hyperscan databases compiled, $ncached from the cache"
    [ "$ncompiled" -eq 0 ] || bad "the warm load compiled $ncompiled Hyperscan databases"
    [ "$ncached" -gt 0 ] || bad "the warm load took nothing from the cache"
else
    echo "et-load: (no \"rule load:\" line; cache reuse not checked)"
fi

pct=$(awk -v l="$loaded" -v t="$total" 'BEGIN { printf "%.1f", t ? 100 * l / t : 0 }')
if [ "$loaded" -gt "$ratchet" ]; then
    echo "et-load: note: $loaded rules load now; raise the ratchet in $ratchet_file from $ratchet"
fi
echo "et-load: $loaded of $total rules loaded ($pct%)"
exit $fail
