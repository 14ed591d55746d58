#!/usr/bin/env bash
# smoke-test.sh - build the ctdlab image with podman, start the five-service
# compose stack, wait for every health check, run the four-step drill against
# it from a drill container, and tear everything down (also on failure).
# Slow (minutes): `make docker-smoke`, not part of `make check`.
set -euo pipefail
cd "$(dirname "$0")/.."
project=ctdlab-smoke
compose=(podman-compose -p "$project" -f docker/compose.yml)

need=()
for tool in podman runc mmdebstrap podman-compose; do
	command -v "$tool" >/dev/null || need+=("$tool")
done
if ((${#need[@]})); then
	[[ $(id -u) -eq 0 ]] || { echo "smoke-test: install ${need[*]} (as root)" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# crun cannot set rlimits or cgroups in this sandbox: runc, and no default ulimits.
if [[ ! -f /etc/containers/containers.conf ]] || ! grep -q 'runtime = "runc"' /etc/containers/containers.conf; then
	mkdir -p /etc/containers
	printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >/etc/containers/containers.conf
fi
# No registry here: make debian:bookworm-slim from Debian's packages once.
if ! podman image exists docker.io/library/debian:bookworm-slim; then
	tar=$(mktemp -d)/bookworm.tar
	mmdebstrap --variant=minbase --include=ca-certificates bookworm "$tar"
	podman import "$tar" docker.io/library/debian:bookworm-slim
	rm -f "$tar"
fi

podman build --network host -t ctdlab -f docker/Dockerfile .

cleanup() { "${compose[@]}" down -v >/dev/null 2>&1 || true; }
trap cleanup EXIT
"${compose[@]}" up -d

echo "smoke-test: waiting for the five health checks"
for _ in $(seq 1 120); do
	healthy=$(podman ps --filter "label=io.podman.compose.project=$project" \
		--format '{{.Status}}' | grep -c '(healthy)' || true)
	[[ $healthy -ge 5 ]] && break
	sleep 1
done
podman ps --filter "label=io.podman.compose.project=$project" --format '{{.Names}} {{.Status}}'
[[ $healthy -ge 5 ]] || { echo "smoke-test: not every service became healthy" >&2; exit 1; }

"${compose[@]}" run --rm drill
echo "smoke-test: passed"
