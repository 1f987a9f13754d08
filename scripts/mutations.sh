#!/usr/bin/env bash
# mutations.sh — does the crash suite catch a broken product?
#
# Each mutation below breaks one rule of docs/behaviour.md in a copy of the
# tree (the working tree is never touched), then runs the crash suite
# (podlife's TestResumeAfterInterruption) on that copy. The first four are
# the breakages the suite was rebuilt to catch; saved-ddl-ignored breaks
# the rerun's use of the DDL journal; end-resets-unflushed undoes a fix the
# suite led to. A mutation is caught when the suite fails; the first
# failing test is reported. The unmutated copy runs first and must pass, so
# a failure means the mutation, not a broken suite. Exit status 0 only when
# every mutation is caught.
#
# A mutation is a perl substitution applied to podlife's non-test Go files,
# each file as one string: it must match exactly once in all of them, else
# it is reported NOT APPLIED (the code changed: update the pattern).
#
# Usage: scripts/mutations.sh [NAME...]   (default: every mutation)
# Runs the go of $GO (default: go on PATH), from anywhere in the repository.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
case $go in
*/*) [[ $go == /* ]] || go=$root/$go ;;
esac
suite='^TestResumeAfterInterruption$'

# name|perl substitution|what it breaks
mutations=(
	"no-ddl-restore|s/(restore := 0\n\tif )prev != 1( \{)/\${1}false\${2}/|a fresh slave leaves REPLICATION_DDL_ENABLE = 1 after its TRUNCATE"
	"no-peer-reset|s/(if theirs, ok := b\.obs\.Servers\[pr\.peer\]\.object\(pr\.name\); ok && hasState\(theirs\)) \{/\${1} && false {/|a slave's end does not RESET the peers' side of its pairs"
	"journal-kept|s/(case StepClearDDL:\n\t\treturn )x\.marker\.removeDDLJournal\(\)/\${1}nil/|the saved REPLICATION_DDL_ENABLE (the DDL journal) is never removed"
	"no-flush-before-sync|s/(if st, ok := peer\.object\(toMaster\); ok && st\.Started) \{/\${1} && false {/|the running pods do not flush their pair with the MASTER before its SYNC of a fresh slave"
	"saved-ddl-ignored|s/(prev := self\.DDLEnable\n\tif )b\.obs\.HasSavedDDL \{/\${1}false {/|a fresh start run again after a killed one restores the 1 it finds, not the saved REPLICATION_DDL_ENABLE"
	"end-resets-unflushed|s/(pending := ok && )\(mine\.Started [^\n]*/\${1}mine.Started/|end run again after an end that kept its restart points resets without flushing the stopped sides"
)

want=("$@")
selected() {
	[ ${#want[@]} -eq 0 ] && return 0
	local w
	for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done
	return 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# copy makes a fresh copy of the working tree (uncommitted changes
# included, no .git, no build output) in $work/$1.
copy() {
	mkdir -p "$work/$1"
	tar -C "$root" --exclude=./.git --exclude=./bin -cf - . | tar -C "$work/$1" -xf -
}

# mutate applies substitution $2 to the non-test Go files of podlife in
# copy $1 and prints how many times it matched.
mutate() {
	perl -e '
		my $subst = shift; my $total = 0;
		for my $path (grep { !/_test\.go$/ } @ARGV) {
			open my $in, "<", $path or die "$path: $!"; local $/; $_ = <$in>; close $in;
			my $n = eval "$subst" . "g"; die $@ if $@;
			next unless $n;
			$total += $n;
			open my $out, ">", $path or die "$path: $!"; print $out $_; close $out;
		}
		print $total;' "$2" "$work/$1"/podlife/*.go
}

# suite runs the crash suite in a copy, stopping at the first failure; it
# prints the first failing test, if any, and returns go test's status.
suite() {
	local dir=$1 out status=0
	out=$(cd "$dir" && "$go" test -count=1 -failfast -run "$suite" ./podlife/ 2>&1) || status=$?
	if [ $status -ne 0 ]; then
		local first
		first=$(printf '%s\n' "$out" | grep -m1 -E -- '--- FAIL: TestResumeAfterInterruption/[^ ]+/' || printf '%s\n' "$out" | grep -m1 -E -- '--- FAIL|FAIL|panic' || true)
		printf '%s' "${first#"${first%%[![:space:]]*}"}"
	fi
	return $status
}

row() { printf '%-22s %-11s %5s  %s\n' "$@"; }

printf 'crash suite against %d mutations (each in a copy of the tree)\n' "${#mutations[@]}"
copy base
start=$SECONDS
if ! first=$(suite "$work/base"); then
	printf 'the unmutated tree fails the suite (%s): fix that first\n' "$first"
	exit 2
fi
row "(none)" "passes" "$((SECONDS - start))s" "the unmutated tree"

missed=0
for m in "${mutations[@]}"; do
	IFS='|' read -r name subst what <<<"$m"
	selected "$name" || continue
	copy "$name"
	n=$(mutate "$name" "$subst")
	if [ "$n" != 1 ]; then
		row "$name" "NOT APPLIED" "-" "$what: the pattern matched $n times in podlife (the code changed: update the mutation)"
		missed=$((missed + 1))
		continue
	fi
	if ! (cd "$work/$name" && "$go" vet ./podlife/ >/dev/null 2>&1); then
		row "$name" "BROKEN" "-" "$what: the mutated tree does not build or vet"
		missed=$((missed + 1))
		continue
	fi
	start=$SECONDS
	if first=$(suite "$work/$name"); then
		row "$name" "NOT CAUGHT" "$((SECONDS - start))s" "$what"
		missed=$((missed + 1))
	else
		row "$name" "caught" "$((SECONDS - start))s" "$what"
		row "" "" "" "by $first"
	fi
	rm -rf "${work:?}/$name"
done
[ $missed -eq 0 ]
