#!/usr/bin/env bash
# deps.sh - the Debian packages of tools/debian-packages.txt that are missing.
#   deps.sh           install them (as root: apt-get update once, then install)
#   deps.sh --check   only name them and fail; never runs the package manager
set -euo pipefail
list=$(dirname "$0")/debian-packages.txt
mapfile -t wanted < <(sed 's/#.*//; /^[[:space:]]*$/d' "$list")
command -v dpkg-query >/dev/null || exit 0 # not Debian: the compiler will say what is missing
missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0
if [[ ${1:-} == --check || $(id -u) -ne 0 ]]; then
	echo "ctdlab: missing Debian packages: ${missing[*]}" >&2
	echo "ctdlab: install them with 'sudo make deps' and try again" >&2
	exit 1
fi
echo "ctdlab: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
