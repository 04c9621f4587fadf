#!/usr/bin/env bash
# The main job: set up (idempotent), then train and verify a small recognizer on the built-in synthetic faces.
# Extra arguments go to `facedistill demo` (e.g. --quick).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
exec dotnet src/FaceDistill.Cli/bin/Release/net10.0/facedistill.dll demo "$@"
