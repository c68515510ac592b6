#!/usr/bin/env bash
# Installs the AWS API emulator used by the AWS acceptance and fault tests: a pinned moto[server] in a venv at
# .tools/venv, so `moto_server` runs without touching the system Python. Idempotent: when the venv already has
# moto at the pinned version, it only checks and exits (well under 1 s).
# Called by scripts/install-tools.sh (and so by `make tools`); safe to run on its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# 5.2.5 is the version whose behaviour is recorded in FACTS.md (instances available at once, almost no validation).
MOTO_VERSION="5.2.5"
VENV="${TOOLS_DIR}/venv"
MOTO_SERVER="${VENV}/bin/moto_server"

installed_version() {
  "${VENV}/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true
}

if [ -x "${MOTO_SERVER}" ] && [ "$(installed_version)" = "${MOTO_VERSION}" ]; then
  log "moto ${MOTO_VERSION} already in ${VENV}"
  exit 0
fi

need_cmd python3 "install Python 3 (apt-get install -y python3 python3-venv), then run 'make tools' again"
if [ ! -x "${VENV}/bin/python" ]; then
  log "creating ${VENV}"
  python3 -m venv "${VENV}" \
    || die "python3 -m venv ${VENV} failed (output above); install python3-venv (apt-get install -y python3-venv) and retry"
fi
log "installing moto[server]==${MOTO_VERSION} into ${VENV} from PyPI"
if ! "${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==${MOTO_VERSION}"; then
  die "pip could not install moto[server]==${MOTO_VERSION} (output above); check access to pypi.org, then run 'make tools' again"
fi
[ -x "${MOTO_SERVER}" ] || die "moto installed but ${MOTO_SERVER} is missing (package layout changed?)"
got="$(installed_version)"
[ "${got}" = "${MOTO_VERSION}" ] || die "${VENV} has moto ${got}, expected ${MOTO_VERSION}"
log "installed moto ${got} into ${VENV}"
