#!/bin/sh
# The docker CLI's `compose` plugin on an engine without BuildKit (podman's Docker API): builds
# use the engine's classic build API unless DOCKER_BUILDKIT says otherwise, so `docker compose
# up --build` works with no variable set. Installed by cascade-lab's scripts/container-engine.sh.
DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" exec /usr/local/libexec/cascade-lab/docker-compose "$@"
