#!/usr/bin/env bash
# mutations.sh — does the crash suite catch a broken product?
#
# Each mutation below breaks one rule of docs/behaviour.md in a copy of the
# tree (the working tree is never touched), then runs the crash suite
# (podlife's TestResumeAfterInterruption) on that copy. The first four are
# the breakages the suite was rebuilt to catch; saved-ddl-ignored breaks
# the rerun's use of the DDL journal; end-resets-unflushed undoes a fix the
# suite led to. A mutation is
# caught when the suite fails; the first failing test is reported. The
# unmutated copy runs first and must pass, so a failure means the mutation,
# not a broken suite. Exit status 0 only when every mutation is caught.
#
# Usage: scripts/mutations.sh [NAME...]   (default: every mutation)
# Run from anywhere inside the repository; needs go on PATH.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
suite='^TestResumeAfterInterruption$'

# name|file|perl substitution (applied with -0: the file is one string)|what it breaks
mutations=(
	"no-ddl-restore|podlife/plan.go|s/(restore := 0\n\tif )prev != 1( \{)/\${1}false\${2}/|a fresh slave leaves REPLICATION_DDL_ENABLE = 1 after its TRUNCATE"
	"no-peer-reset|podlife/end.go|s/(if theirs, ok := b\.obs\.Servers\[pr\.peer\]\.object\(pr\.name\); ok && hasState\(theirs\)) \{/\${1} && false {/|a slave's end does not RESET the peers' side of its pairs"
	"journal-kept|podlife/execute.go|s/(case StepClearDDL:\n\t\treturn )x\.marker\.removeDDLJournal\(\)/\${1}nil/|the saved REPLICATION_DDL_ENABLE (the DDL journal) is never removed"
	"no-flush-before-sync|podlife/plan.go|s/(if st, ok := peer\.object\(toMaster\); ok && st\.Started) \{/\${1} && false {/|the running pods do not flush their pair with the MASTER before its SYNC of a fresh slave"
	"saved-ddl-ignored|podlife/plan.go|s/(prev := self\.DDLEnable\n\tif )b\.obs\.HasSavedDDL \{/\${1}false {/|a fresh start run again after a killed one restores the 1 it finds, not the saved REPLICATION_DDL_ENABLE"
	"end-resets-unflushed|podlife/end.go|s/(stale := ok && !mine\.Started && hasState\(mine\) && reset)\n/\${1} && false\n/|end run again after an end that kept its restart points resets without flushing the stopped sides"
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

# suite runs the crash suite in a copy, stopping at the first failure; it
# prints the first failing test, if any, and returns go test's status.
suite() {
	local dir=$1 out status=0
	out=$(cd "$dir" && go test -count=1 -failfast -run "$suite" ./podlife/ 2>&1) || status=$?
	if [ $status -ne 0 ]; then
		local first
		first=$(printf '%s\n' "$out" | grep -m1 -E -- '--- FAIL: TestResumeAfterInterruption/[^ ]+/' || printf '%s\n' "$out" | grep -m1 -E -- '--- FAIL|FAIL|panic' || true)
		printf '%s' "${first#"${first%%[![:space:]]*}"}"
	fi
	return $status
}

printf 'crash suite against %d mutations (each in a copy of the tree)\n' "${#mutations[@]}"
copy base
start=$SECONDS
if ! first=$(suite "$work/base"); then
	printf 'the unmutated tree fails the suite (%s): fix that first\n' "$first"
	exit 2
fi
printf '%-22s %-11s %5ss  %s\n' "(none)" "passes" $((SECONDS - start)) "the unmutated tree"

missed=0
for m in "${mutations[@]}"; do
	IFS='|' read -r name file subst what <<<"$m"
	selected "$name" || continue
	copy "$name"
	n=$(perl -0 -e '
		my ($path, $subst) = @ARGV;
		local $/; open my $in, "<", $path or die "$path: $!"; $_ = <$in>; close $in;
		my $n = eval "$subst" . "g"; die $@ if $@;
		open my $out, ">", $path or die "$path: $!"; print $out $_; close $out;
		print $n + 0;' "$work/$name/$file" "$subst")
	if [ "$n" != 1 ]; then
		printf '%-22s %-11s %5s   %s: the pattern matched %s times in %s (the code changed: update the mutation)\n' "$name" "NOT APPLIED" "-" "$what" "$n" "$file"
		missed=$((missed + 1))
		continue
	fi
	if ! (cd "$work/$name" && go vet ./podlife/ >/dev/null 2>&1); then
		printf '%-22s %-11s %5s   %s: the mutated tree does not build or vet\n' "$name" "BROKEN" "-" "$what"
		missed=$((missed + 1))
		continue
	fi
	start=$SECONDS
	if first=$(suite "$work/$name"); then
		printf '%-22s %-11s %5ss  %s\n' "$name" "NOT CAUGHT" $((SECONDS - start)) "$what"
		missed=$((missed + 1))
	else
		printf '%-22s %-11s %5ss  %s\n' "$name" "caught" $((SECONDS - start)) "$what"
		printf '%-22s %-11s %5s   by %s\n' "" "" "" "$first"
	fi
	rm -rf "${work:?}/$name"
done
[ $missed -eq 0 ]
