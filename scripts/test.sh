#!/usr/bin/env bash
# Runs the FaceDistill test suite (after the idempotent set-up) and ends with one line:
#   N passed, N failed, N skipped
# Exit status: non-zero if the build failed or any test failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# the HTML-report tests open the reports in Debian's headless chromium (never a browser a tool downloads itself);
# where it cannot be installed they skip with a message
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "[test] installing chromium (headless browser for the report tests)" >&2
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      chromium >/dev/null; } || echo "[test] warning: chromium could not be installed; report browser tests skip" >&2
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
# the analysis programs the result pages cite (file-based .NET programs, scripts/analysis/*.cs) must keep compiling
for f in scripts/analysis/*.cs; do
  [ -e "$f" ] || continue
  if ! dotnet build "$f" -c Release -nologo -v q -clp:ErrorsOnly >"$results/analysis.log" 2>&1; then
    cat "$results/analysis.log"; echo "[test] $f does not compile" >&2
    echo "0 passed, 1 failed, 0 skipped"; exit 1
  fi
done
dotnet test tests/FaceDistill.Tests/FaceDistill.Tests.csproj -c Release --no-build --nologo \
  --logger "trx;LogFileName=results.trx" --results-directory "$results" \
  --logger "console;verbosity=normal" "$@" 2>&1 | grep -v 'NNPACK' | tee "$results/console.log"
status=${PIPESTATUS[0]}

trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
  notexec=$(get notExecuted)
  skipped=$(( ${total:-0} - ${executed:-0} ))
  [ "${notexec:-0}" -gt "$skipped" ] && skipped=$notexec
  failed=$(( ${failed:-0} + $(get error || echo 0) + $(get timeout || echo 0) + $(get aborted || echo 0) ))
else
  passed=0; failed=1; skipped=0
fi
echo "${passed:-0} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
