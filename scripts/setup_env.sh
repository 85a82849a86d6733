#!/usr/bin/env bash
# Creates .venv (when missing) and installs everything the project needs, system packages included.
# Idempotent: re-running only installs what changed. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; return 1; fi; }
apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# FFmpeg's shared libraries: torchcodec (datasets' Audio decoding) loads them at run time.
if ! ldconfig -p 2>/dev/null | grep 'libavcodec\.so' >/dev/null; then  # no -q: an early exit would SIGPIPE ldconfig under pipefail
  echo "[setup] installing FFmpeg (Debian ffmpeg) for torchcodec"
  apt_install ffmpeg
fi
# Headless Chromium for the Space's browser tests; only when the test extra is wanted.
if [ "${WITH_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null; then
  echo "[setup] installing Debian chromium for browser tests"
  apt_install chromium chromium-driver || echo "[setup] warning: chromium could not be installed; browser tests will skip"
fi
# espeak-ng renders synthetic speech for the synthetic sources when present.
if ! command -v espeak-ng >/dev/null; then
  apt_install espeak-ng || echo "[setup] warning: espeak-ng could not be installed; synthetic speech falls back to tones"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
stamp="$VENV/.installed"
want=$(cat setup.cfg constraints.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# torch first, exactly this version: a looser pin pulls the CUDA build (gigabytes).
$PIP install -q --disable-pip-version-check torch==2.13.0
$PIP install -q --disable-pip-version-check -c constraints.txt -e ".[api,build,gpu,space,test]"
echo "$want" > "$stamp"
echo "[setup] environment ready in $VENV"
