#!/usr/bin/env bash
# Install the tools that bench/run.py compares batchproc with. Safe to run again: it only
# installs what is missing.
#
#   bash bench/install-peers.sh
#
# Debian packages: parallel imagemagick graphicsmagick libvips-tools hyperfine (needs root or sudo).
# Python packages (into the Python that runs the benchmark, $PYTHON, default python3):
#   imgp pyvips pyvips-binary numpy.
# npm: sharp, installed into $BATCHPROC_PEERS_DIR/sharp, outside the repository.
#   BATCHPROC_PEERS_DIR defaults to the folder "peers" beside the repository checkout
#   (for /work/main that is /work/peers); run.py looks there too (or pass --peers-dir).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="${BATCHPROC_PEERS_DIR:-$(dirname "$repo")/peers}"
python="${PYTHON:-python3}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

apt_packages=(parallel imagemagick graphicsmagick libvips-tools hyperfine)
missing=()
for pkg in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "apt: installing ${missing[*]}"
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
  echo "apt: ${apt_packages[*]} already installed"
fi

echo "pip: imgp pyvips pyvips-binary numpy"
"$python" -m pip install --quiet imgp pyvips pyvips-binary numpy

echo "npm: sharp into $peers/sharp"
mkdir -p "$peers/sharp"
cd "$peers/sharp"
[ -f package.json ] || npm init -y >/dev/null
if node -e "require('sharp')" 2>/dev/null; then
  echo "npm: sharp already installed"
else
  npm install sharp
fi
node -e "const s=require('sharp'); console.log('sharp', s.versions.sharp, 'libvips', s.versions.vips)"
