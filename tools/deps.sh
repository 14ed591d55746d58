#!/usr/bin/env bash
# deps.sh - install the Debian packages ctdlab needs that are missing.
# As root: apt-get update once, then apt-get install. Otherwise: name them and fail.
set -euo pipefail
missing=()
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
	echo "ctdlab: missing Debian packages: ${missing[*]}" >&2
	echo "ctdlab: run 'sudo make deps' (or apt-get install them) and try again" >&2
	exit 1
fi
echo "ctdlab: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
