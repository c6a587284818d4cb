#!/usr/bin/env bash
# Installs the Debian 12 packages kmodsim needs, if any is missing. As root it runs apt-get;
# otherwise it prints the exact command and fails.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config
  libsimgrid-dev libboost-graph-dev libeigen3-dev libyaml-cpp-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libssl-dev libgtest-dev
  libboost-context-dev libelf-dev liblzma-dev libzstd-dev zlib1g-dev
  libkmod-dev kmod
  python3 python3-pandas python3-matplotlib python3-yaml python3-scipy python3-simpy3
  parallel
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "kmodsim needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
