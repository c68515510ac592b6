#!/usr/bin/env bash
# Installs squawk (the PostgreSQL migration linter, npm `squawk-cli`, pinned) into .tools/squawk, for the
# side-by-side comparison and `make bench` (scripts/bench-migrations.sh). squawk runs offline once installed: the
# npm package carries the binary in a platform package (@squawk-cli/linux-x64), no download at run time.
# Idempotent: when the pinned version is there it only checks and exits.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SQUAWK_VERSION="2.66.0"
PREFIX="${TOOLS_DIR}/squawk"
SQUAWK="${PREFIX}/node_modules/.bin/squawk"

if [ -x "${SQUAWK}" ] && "${SQUAWK}" --version 2>/dev/null | grep -q "${SQUAWK_VERSION}"; then
  log "squawk ${SQUAWK_VERSION} already in ${PREFIX}"
  exit 0
fi
need_cmd npm "install Node.js and npm (apt-get install -y nodejs npm), then run scripts/install-squawk.sh again"
mkdir -p "${PREFIX}"
log "installing squawk-cli@${SQUAWK_VERSION} into ${PREFIX} from the npm registry"
npm install --silent --no-audit --no-fund --prefix "${PREFIX}" "squawk-cli@${SQUAWK_VERSION}" \
  || die "npm install squawk-cli@${SQUAWK_VERSION} failed (output above); check access to the npm registry"
"${SQUAWK}" --version | grep -q "${SQUAWK_VERSION}" || die "${SQUAWK} does not report version ${SQUAWK_VERSION}"
log "installed $("${SQUAWK}" --version) into ${PREFIX}"
