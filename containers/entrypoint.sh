#!/usr/bin/env bash
# Entrypoint of the rldojo image.
#   train [ALGO=dqn] [ENV=...] [RUN_ID=...] [DEVICE=auto|cpu|cuda] [SET="..."] [ARGS="..."]   the Makefile's `make train`
#   any other command (rldojo learn ..., rldojo-sim ..., bash)                     run as given
set -euo pipefail

# `docker run --user UID:GID` (files on the host owned by the host user) may name a user without a home.
if [ ! -w "${HOME:-/}" ]; then
  export HOME=/tmp/rldojo-home
  mkdir -p "$HOME"
fi

if [ "${1:-}" = "train" ]; then
  shift
  # The image is already set up: skip the setup/builds prerequisites and run rldojo from the venv.
  exec make --no-print-directory -C /app -o setup -o builds train RUN= "$@"
fi
exec "$@"
