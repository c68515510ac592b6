#!/usr/bin/env bash
# action.yml step 1: make `dbpolicy` available. Uses one already on PATH (a cached or preinstalled binary),
# else installs DBPOLICY_VERSION of the dbplatform-policy crate, else builds the action's own checkout
# (ACTION_PATH) in release mode. The binary's folder is added to $GITHUB_PATH for the next steps.
set -euo pipefail
if command -v dbpolicy >/dev/null 2>&1; then
  echo "dbpolicy already installed: $(command -v dbpolicy) ($(dbpolicy --version))"
  exit 0
fi
command -v cargo >/dev/null 2>&1 || { echo "::error title=dbpolicy::cargo is needed to install dbpolicy (use dtolnay/rust-toolchain first)"; exit 2; }
root="${RUNNER_TEMP:-/tmp}/dbpolicy"
if [ -n "${DBPOLICY_VERSION:-}" ]; then
  cargo install --locked --root "${root}" dbplatform-policy --version "${DBPOLICY_VERSION}" --bin dbpolicy
else
  cargo install --locked --root "${root}" --path "${ACTION_PATH:?}/policy" --bin dbpolicy
fi
echo "${root}/bin" >> "${GITHUB_PATH:?}"
"${root}/bin/dbpolicy" --version
