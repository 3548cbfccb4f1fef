#!/bin/sh
# As the official image does: a first argument that is a flag or a script (not a command) runs node.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" 2>/dev/null)" ]; then
  set -- node "$@"
fi
exec "$@"
