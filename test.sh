#!/usr/bin/env bash
# The README's test command: installs every prerequisite on a fresh Debian 12 machine (as root),
# starts the private dockerd, builds everything and runs every test. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
bash testdata/ci/setup.sh
. testdata/ci/env.sh
log=$(mktemp)
set +e
dotnet test --solution Build.sln -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for any reader: "N passed, N failed, N skipped".
awk '/^  total:/{t+=$2} /^  failed:/{f+=$2} /^  succeeded:/{s+=$2} /^  skipped:/{k+=$2} END{printf "tests: %d passed, %d failed, %d skipped\n", s, f, k}' "$log"
rm -f "$log"
exit "$status"
