#!/usr/bin/env bash
# Parses the whole Dockerfile corpus (../shared/dockerfile-corpus) on one core in Release and prints best/median ms.
# Usage: bench/parser.sh [corpus-dir] [rounds]   (ArtifactsPath may be set to keep build output elsewhere)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${1:-${DBUILD_SHARED:-$root/../shared}/dockerfile-corpus}"
exec dotnet run -c Release --project "$root/bench/Dbuild.Dockerfile.Bench" -- "$corpus" "${2:-15}"
