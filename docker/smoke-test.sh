#!/usr/bin/env bash
# smoke-test.sh - build the ctdlab image with podman, start the five-service
# compose stack, wait for every health check, run the four-step drill against
# it from a sixth container, and tear everything down (also on failure).
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

cleanup() {
	local rc=$?
	if ((rc != 0)); then
		for s in ddan ddi tmcm sps imsva; do
			echo "---- ${s} log (last 40 lines)"
			podman logs "${project}_${s}_1" 2>&1 | tail -n 40
		done
	fi
	"${compose[@]}" down -v >/dev/null 2>&1 || true
}
trap cleanup EXIT
"${compose[@]}" up -d

# Without systemd nobody runs the health checks on a timer: run them here.
services=(ddan ddi tmcm sps imsva)
echo "smoke-test: waiting for the five health checks"
for _ in $(seq 1 60); do
	healthy=0
	for s in "${services[@]}"; do
		podman healthcheck run "${project}_${s}_1" >/dev/null 2>&1 && healthy=$((healthy + 1))
	done
	((healthy == ${#services[@]})) && break
	sleep 1
done
podman ps --filter "label=io.podman.compose.project=$project" --format '{{.Names}} {{.Status}}'
((healthy == ${#services[@]})) || { echo "smoke-test: only $healthy of ${#services[@]} services healthy" >&2; exit 1; }

# The drill runs from a sixth container on the lab's network, reading the
# ready files (URLs advertise the service names) from the shared volume.
podman run --rm --network "${project}_default" -v "${project}_lab:/var/lib/ctdlab" \
	localhost/ctdlab:latest ctdlab --dir /var/lib/ctdlab drill all
echo "smoke-test: passed"
