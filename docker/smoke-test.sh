#!/usr/bin/env bash
# smoke-test.sh - build the ctdlab image with podman and print its size
# (at most 150 MB), then run the lab twice, each time waiting for every
# appliance's /readyz, running the four-step drill against it from a sixth
# container and tearing it down (also on failure):
#   1. the compose stack (docker/compose.yml);
#   2. the Kubernetes manifests (docker/k8s/) with `podman kube play`.
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
# No registry here: make debian:bookworm-slim from Debian's packages once,
# the way the official slim image is made (no recommends, no docs, man pages
# or translations, /usr merged without the usrmerge package and its perl).
base=docker.io/library/debian:bookworm-slim
if [[ $(podman image inspect --format '{{index .Labels "ctdlab.base"}}' "$base" 2>/dev/null) != slim ]]; then
	tar=$(mktemp -d)/bookworm.tar
	mmdebstrap --variant=minbase --include=ca-certificates \
		--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
		bookworm "$tar"
	podman rmi -f "$base" >/dev/null 2>&1 || true
	podman import --change 'LABEL ctdlab.base=slim' "$tar" "$base"
	rm -rf "$(dirname "$tar")"
fi

podman build --network host -t ctdlab -f docker/Dockerfile .
size=$(podman image inspect --format '{{.Size}}' localhost/ctdlab:latest)
echo "smoke-test: image localhost/ctdlab:latest is $((size / 1000000)) MB"
((size <= 150000000)) || { echo "smoke-test: the image is over 150 MB" >&2; exit 1; }

services=(ddan ddi tmcm sps imsva)
kube=docker/k8s/ctdlab.yaml
pod=ctdlab-pod # the Deployment's pod is ctdlab-pod-0 in podman 4.3: looked up below
# How DDI in a container captures: live where the runtime granted NET_RAW,
# else "unavailable" and why (the download site then hands it captures).
ddi_capture() {
	podman exec "$1" curl -ks -H "X-Api-Key: $(sed -n 's/^ *ddi-api-key: //p' docker/k8s/secret.yaml)" \
		https://127.0.0.1:8446/api/status | python3 -c 'import json, sys
c = json.load(sys.stdin)["capture"]
print("smoke-test: DDI capture in", sys.argv[1] + ":", c["state"], "on", c.get("interface", "?"), c.get("reason") or "")' "$2"
}

cleanup() {
	local rc=$?
	if ((rc != 0)); then
		for s in "${services[@]}"; do
			echo "---- ${s} log (last 40 lines)"
			podman logs "${project}_${s}_1" 2>&1 | tail -n 40
			podman logs "${pod}-${s}" 2>&1 | tail -n 40 || true
		done
	fi
	"${compose[@]}" down -v >/dev/null 2>&1 || true
	podman kube down "$kube" >/dev/null 2>&1 || true
	podman volume rm -f ctdlab-data >/dev/null 2>&1 || true
	podman secret rm ctdlab-keys >/dev/null 2>&1 || true
	podman rm -f -v ctdlab-smoke-nocap >/dev/null 2>&1 || true
}
trap cleanup EXIT
"${compose[@]}" up -d

# Without systemd nobody runs the health checks on a timer: run them here.
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
ddi_capture "${project}_ddi_1" compose
echo "smoke-test: compose drill passed"
"${compose[@]}" down -v >/dev/null 2>&1

# Where the runtime withholds NET_RAW, ddid still starts and says it fell back.
podman run -d --name ctdlab-smoke-nocap --cap-drop NET_RAW -e CTDLAB_DDI_INTERFACE=any \
	-e CTDLAB_DDI_API_KEY="$(sed -n 's/^ *ddi-api-key: //p' docker/k8s/secret.yaml)" \
	localhost/ctdlab:latest ddid >/dev/null
for _ in $(seq 1 60); do
	podman exec ctdlab-smoke-nocap curl -kfs https://127.0.0.1:8446/livez >/dev/null 2>&1 && break # no DDAN: never ready
	sleep 1
done
ddi_capture ctdlab-smoke-nocap "a container without NET_RAW"
podman rm -f -v ctdlab-smoke-nocap >/dev/null

# Kubernetes: the same image from docker/k8s/. podman 4's kube play reads a
# secretKeyRef from a podman secret holding {"key": base64}: made here from
# secret.yaml (a cluster takes secret.yaml as it is).
python3 -c 'import base64, json, sys, yaml
data = yaml.safe_load(open(sys.argv[1]))["stringData"]
print(json.dumps({k: base64.b64encode(v.encode()).decode() for k, v in data.items()}))' \
	docker/k8s/secret.yaml | podman secret create ctdlab-keys - >/dev/null
podman kube play "$kube" 2>&1 | grep -v 'systemd connection' # no systemd: podman cannot time probes
pod=$(podman pod ps --format '{{.Name}}' | grep -m1 "^${pod}")
# Probes of a kube pod are not run by podman here either: ask each
# appliance's /livez and /readyz from inside the pod, as the kubelet would.
ports=(8443 8446 8444 4343 8445)
echo "smoke-test: waiting for the pod's five /readyz"
for _ in $(seq 1 90); do
	ready=0
	for i in "${!services[@]}"; do
		podman exec "${pod}-${services[i]}" sh -c "curl -kfs https://127.0.0.1:${ports[i]}/livez && curl -kfs https://127.0.0.1:${ports[i]}/readyz" \
			>/dev/null 2>&1 && ready=$((ready + 1))
	done
	((ready == ${#services[@]})) && break
	sleep 1
done
podman pod ps --filter "name=$pod"
((ready == ${#services[@]})) || { echo "smoke-test: only $ready of ${#services[@]} appliances ready in the pod" >&2; exit 1; }
# The drill from a container joined to the pod (its localhost), reading the
# ready files on the pod's volume.
podman run --rm --pod "$pod" -v ctdlab-data:/var/lib/ctdlab \
	localhost/ctdlab:latest ctdlab --dir /var/lib/ctdlab drill all
ddi_capture "${pod}-ddi" "kube play"
echo "smoke-test: kube drill passed"
echo "smoke-test: passed"
