#!/usr/bin/env bash
# Fuzzes one harness of fuzz/Dbuild.Fuzz with afl-fuzz for a bounded time:
#   bash fuzz/run.sh TARGET SECONDS [OUTPUT_DIR]
# TARGET: dockerfile, tar, manifest, reference or route. Seeds: testdata/fuzz/TARGET/ and its regressions/.
# The harness assemblies are instrumented by SharpFuzz on copies in a temp dir (never the build output in place).
# Prints afl-fuzz's stats at the end; exits 1 when afl-fuzz saved a crash or a hang (under OUTPUT_DIR/default/).
# DBUILD_FUZZ_BIN: the built Dbuild.Fuzz (default artifacts/bin/Dbuild.Fuzz/release, built when missing).
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 TARGET SECONDS [OUTPUT_DIR]" >&2; exit 2; fi
target=$1 seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
case $target in
  dockerfile) instrument=(Dbuild.Dockerfile.dll) ;;
  tar | reference) instrument=(Dbuild.Oci.dll) ;;
  manifest | route) instrument=(Dbuild.Oci.dll Dbuild.Registry.dll) ;;
  *) echo "run.sh: unknown target '$target' (dockerfile, tar, manifest, reference, route)" >&2; exit 2 ;;
esac
seeds=$root/testdata/fuzz/$target
command -v afl-fuzz >/dev/null || { echo "run.sh: afl-fuzz not found; apt-get install -y afl++" >&2; exit 2; }
bin=${DBUILD_FUZZ_BIN:-$root/artifacts/bin/Dbuild.Fuzz/release}
if [ ! -f "$bin/Dbuild.Fuzz.dll" ]; then dotnet build "$root/fuzz/Dbuild.Fuzz" -c Release -v q -nologo >&2; fi
out=${3:-$(mktemp -d "${TMPDIR:-/tmp}/dbuild-fuzz-$target.XXXXXX")}
work=$(mktemp -d "${TMPDIR:-/tmp}/dbuild-fuzz-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

cp -r "$bin" "$work/bin"
(cd "$root" && dotnet tool restore >/dev/null)
for assembly in "${instrument[@]}"; do
  (cd "$root" && dotnet tool run sharpfuzz "$work/bin/$assembly" >/dev/null)
done
# afl-fuzz wants one flat directory of seeds; the regressions are seeds too.
mkdir -p "$work/in"
find -L "$seeds" -type f -exec cp -L --backup=numbered -t "$work/in" {} +

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# Bounds per execution: 5 s (-t; a hang beyond it is a finding) and a 512 MiB managed heap (dotnet reserves far more
# address space than it uses, so afl-fuzz's -m limit cannot apply).
export DOTNET_GCHeapHardLimit=0x20000000 DOTNET_TieredPGO=0 DOTNET_CLI_TELEMETRY_OPTOUT=1
afl-fuzz -i "$work/in" -o "$out" -V "$seconds" -t 5000 -m none -- dotnet "$work/bin/Dbuild.Fuzz.dll" "$target" >"$out.log" 2>&1 || {
  status=$?; tail -40 "$out.log" >&2; exit "$status"; }
stats=$out/default/fuzzer_stats
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs) ' "$stats"
echo "output: $out"
found=$(find "$out/default/crashes" "$out/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
if [ "$found" -gt 0 ]; then
  echo "run.sh: $target: $found crash/hang input(s) under $out/default; replay: dotnet $bin/Dbuild.Fuzz.dll $target FILE" >&2
  exit 1
fi
