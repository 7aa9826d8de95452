#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzX(f *testing.F) in a _test.go file)
# for FUZZTIME each, one at a time: go test fuzzes one target per run. A
# failing input is written to the package's testdata/fuzz/FuzzX/, where it
# stays as a regression seed that plain `go test` runs from then on.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
# Each new interesting input is minimized for up to this long (Go's default
# is 60s); when the fuzzing time runs out during a minimization, Go reports
# "context deadline exceeded". Short runs keep it short.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}
cd "$(dirname "$0")/.."

failed=()
while IFS=: read -r file name; do
	dir=$(dirname "$file")
	echo "== $name (./$dir, $FUZZTIME)"
	fuzz() { $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "./$dir" 2>&1 | tee "$log"; }
	log=$(mktemp)
	# Go's fuzzing engine reports "context deadline exceeded" when its time
	# is up while a worker minimizes an input: no input failed (none is
	# written), so that run is tried once more; a failing input never is.
	if ! fuzz && { grep -q 'Failing input written to' "$log" || ! grep -q 'context deadline exceeded' "$log" || ! fuzz; }; then
		failed+=("$name (./$dir)")
	fi
	rm -f "$log"
done < <(git grep --untracked -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' ':!test/tools' |
	sed -E 's/^([^:]+):[0-9]+:func (Fuzz[A-Za-z0-9_]*)\(.*/\1:\2/' | sort)

if ((${#failed[@]})); then
	printf 'fuzzing found failures in:\n' >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
