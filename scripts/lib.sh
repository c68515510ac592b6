#!/usr/bin/env bash
# Shared shell helpers for scripts/*.sh: one place for logging, fatal errors and the repository paths,
# so every script reports problems the same way and agrees on where `.tools/` lives.
# Source it; do not execute it:  . "$(dirname "$0")/lib.sh"

# Repository root (the directory holding GNUmakefile), independent of the caller's working directory.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Git-ignored directory for tools the tests need (Terraform CLI, Python venv for moto).
TOOLS_DIR="${REPO_ROOT}/.tools"
TOOLS_BIN="${TOOLS_DIR}/bin"

# log MSG...: progress message on stderr, prefixed with the script's name.
log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# die MSG...: error message on stderr, then exit 1.
die() { printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# need_cmd CMD HINT: fail with HINT unless CMD is on PATH.
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; $2"; }

# sha256_of FILE: print the hex sha256 of FILE.
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# as_root CMD...: run CMD as root (directly when already root, else through sudo when available).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run '$*' (not root and no sudo); run it yourself as root, then re-run $(basename "$0")"
  fi
}
