#!/usr/bin/env bash
# deps.sh - the Debian packages of tools/debian-packages.txt that are missing,
# and the browser tests' npm packages (tests/browser/package-lock.json).
#   deps.sh           install them (as root: apt-get update once, then install;
#                     then `npm ci` in tests/browser when the lockfile changed)
#   deps.sh --check   only name the missing Debian packages the build needs
#                     (those above "# test-only") and fail; never runs a
#                     package manager
set -euo pipefail
list=$(dirname "$0")/debian-packages.txt
browser=$(dirname "$0")/../tests/browser

debian_deps() {
	local upto='$' # --check: the build's packages, those above "# test-only"
	[[ ${1:-} == --check ]] && upto='/^# test-only/'
	mapfile -t wanted < <(sed -n "1,${upto}p" "$list" | sed 's/#.*//; /^[[:space:]]*$/d')
	command -v dpkg-query >/dev/null || return 0 # not Debian: the compiler will say what is missing
	missing=()
	for pkg in "${wanted[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		[[ $status == "install ok installed" ]] || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) && return 0
	if [[ ${1:-} == --check || $(id -u) -ne 0 ]]; then
		echo "ctdlab: missing Debian packages: ${missing[*]}" >&2
		echo "ctdlab: install them with 'sudo make deps' and try again" >&2
		exit 1
	fi
	echo "ctdlab: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm ci when node_modules is missing or older than the lockfile.
npm_deps() {
	[[ $browser/node_modules/.package-lock.json -nt $browser/package-lock.json ]] && return 0
	command -v npm >/dev/null || { echo "ctdlab: npm is needed for the browser tests" >&2; exit 1; }
	echo "ctdlab: npm ci in tests/browser" >&2
	(cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
}

debian_deps "$@"
[[ ${1:-} == --check ]] || npm_deps
