#!/usr/bin/env bash
# The long fuzz run: the suite's fuzz properties (tests/FaceDistill.Tests/FuzzTests.cs: images, PGM headers, configs,
# YAML, plans, CSV, pair lists, landmark CSVs, checkpoints) with SCALE times their CI case counts (default 20).
#   bash bench/fuzz.sh [SCALE]
# Prints the number of generated cases and the time; the last result is recorded in docs/reliability.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scale="${1:-20}"
dotnet build tests/FaceDistill.Tests -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
cases=$(grep -o 'iter: N([0-9]*)' tests/FaceDistill.Tests/FuzzTests.cs | grep -o '[0-9]*' | awk '{s += $1} END {print s}')
start=$(date +%s)
FACEDISTILL_FUZZ_SCALE="$scale" dotnet test tests/FaceDistill.Tests/FaceDistill.Tests.csproj -c Release --no-build \
  --nologo --filter "FullyQualifiedName~FuzzTests" 2>&1 | tail -1
echo "fuzz: $((cases * scale)) generated cases (scale $scale) in $(( $(date +%s) - start )) s"
