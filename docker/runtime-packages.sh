#!/bin/sh
# runtime-packages.sh - print the Debian packages that hold the shared
# libraries the given binaries load, one a line. The image's build stage runs
# it so the runtime stage installs exactly those (no -dev, no compiler), and
# the list never drifts from what the Makefile links.
set -eu
ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u | while read -r lib; do
	# dpkg names a library under /lib or /usr/lib, whichever its package ships
	alt=$(case $lib in /usr/*) echo "${lib#/usr}" ;; *) echo "/usr$lib" ;; esac)
	dpkg -S "$lib" 2>/dev/null || dpkg -S "$alt" 2>/dev/null ||
		{ echo "runtime-packages: no package holds $lib" >&2; exit 1; }
done | cut -d: -f1 | sort -u
