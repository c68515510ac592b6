#!/usr/bin/env bash
# `make demo`: the product end to end on the local backend, in a few minutes and a screenful of output.
#   1. builds the provider (dev profile) and installs Terraform 1.0.3 (scripts/install-tools.sh);
#   2. puts the provider into a filesystem mirror under .tools/demo and points a CLI config at it (no network);
#   3. applies examples/quickstart: a tier-3 PostgreSQL database, seeds 1000 rows with psql, then a second apply
#      adds a restore test that restores the backups into a scratch copy and verifies the rows;
#   4. applies examples/failover-drill: a database, its streaming replica, and a failover drill (kill -9 of the
#      primary, promotion, switch-back) whose measured RTO and RPO are printed;
#   5. plans examples/guardrail-refused, which the guardrails refuse with the rule id, attribute and fix;
#   6. checks examples/migrations with `dbpolicy migration check`: the unsafe migration is refused on its lines,
#      the safe version of the same change passes; then dry-runs 0003 on a scratch copy of the quickstart database
#      (`--scratch-copy`: its latest backup restored, the migration run and measured there, the copy removed).
# `make demo-destroy` (`scripts/demo.sh destroy`) destroys the database (a final backup is kept) and the demo files.
# Full Terraform output of every step is in .tools/demo/logs/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEMO_DIR="${TOOLS_DIR}/demo"
DATA_DIR="${DEMO_DIR}/data"
LOGS="${DEMO_DIR}/logs"
WORK="${DEMO_DIR}/work"
MIRROR="${DEMO_DIR}/mirror"
TF="${TOOLS_BIN}/terraform"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "${REPO_ROOT}/Cargo.toml" | head -1)"

export TF_CLI_CONFIG_FILE="${DEMO_DIR}/terraformrc"
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 TF_INPUT=0
export TF_VAR_data_dir="${DATA_DIR}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# tf NAME DIR ARGS...: run terraform in DIR, full output to logs/NAME.log; on failure show its tail and stop.
tf() {
  local name="$1" dir="$2"
  shift 2
  if ! "${TF}" -chdir="${dir}" "$@" -no-color >"${LOGS}/${name}.log" 2>&1; then
    tail -n 40 "${LOGS}/${name}.log" >&2
    die "terraform $1 in ${dir} failed (full output: ${LOGS}/${name}.log)"
  fi
}

destroy() {
  [ -x "${TF}" ] || die "${TF} is missing; nothing was deployed by the demo (run 'make demo' first)"
  mkdir -p "${LOGS}"
  if [ -f "${WORK}/failover-drill/terraform.tfstate" ]; then
    step "terraform destroy examples/failover-drill"
    tf destroy-drill "${WORK}/failover-drill" destroy -auto-approve
  fi
  if [ -f "${WORK}/quickstart/terraform.tfstate" ]; then
    step "terraform destroy examples/quickstart (a final backup is taken)"
    tf destroy "${WORK}/quickstart" destroy -auto-approve
    grep -E "Destroy complete" "${LOGS}/destroy.log" || true
  else
    log "no quickstart state in ${WORK}/quickstart; nothing to destroy"
  fi
  rm -rf "${WORK}" "${MIRROR}" "${DATA_DIR}/restores" "${DATA_DIR}/databases" "${DATA_DIR}/replicas" "${DATA_DIR}/drills"
  if [ -d "${DATA_DIR}/final-backups" ]; then
    printf 'final backups kept in %s (remove with: rm -rf %s)\n' "${DATA_DIR}/final-backups" "${DEMO_DIR}"
  fi
}

if [ "${1:-}" = "destroy" ]; then
  destroy
  exit 0
fi

started=$(date +%s)
mkdir -p "${LOGS}"
step "build the provider (cargo build, dev profile) and install Terraform 1.0.3"
if ! "${REPO_ROOT}/scripts/install-tools.sh" >"${LOGS}/install-tools.log" 2>&1; then
  cat "${LOGS}/install-tools.log" >&2
  die "scripts/install-tools.sh failed (output above)"
fi
if ! (cd "${REPO_ROOT}" && cargo build -p terraform-provider-dbplatform --bin terraform-provider-dbplatform -p dbplatform-policy --bin dbpolicy) >"${LOGS}/build.log" 2>&1; then
  tail -n 30 "${LOGS}/build.log" >&2
  die "cargo build failed (full output: ${LOGS}/build.log)"
fi
need_cmd psql "install the PostgreSQL client (apt-get install postgresql-client)"
after_build=$(date +%s)

mkdir -p "${LOGS}" "${WORK}" "${DATA_DIR}"
chmod 0755 "${DEMO_DIR}" "${DATA_DIR}"
plugin_dir="${MIRROR}/registry.terraform.io/dbplatform/dbplatform/${VERSION}/linux_amd64"
mkdir -p "${plugin_dir}"
# Stripped: Terraform hashes the provider binary on every command, and the debug build is large.
strip --strip-debug -o "${plugin_dir}/terraform-provider-dbplatform_v${VERSION}" "${REPO_ROOT}/target/debug/terraform-provider-dbplatform" \
  || cp -f "${REPO_ROOT}/target/debug/terraform-provider-dbplatform" "${plugin_dir}/terraform-provider-dbplatform_v${VERSION}"
cat >"${TF_CLI_CONFIG_FILE}" <<EOF
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "${MIRROR}"
    include = ["dbplatform/dbplatform"]
  }
  direct {
    exclude = ["dbplatform/dbplatform"]
  }
}
EOF
for ex in quickstart guardrail-refused failover-drill; do
  mkdir -p "${WORK}/${ex}"
  cp "${REPO_ROOT}/examples/${ex}/"*.tf "${WORK}/${ex}/"
done

step "terraform apply examples/quickstart: a tier-3 PostgreSQL database on this machine"
tf init-quickstart "${WORK}/quickstart" init -input=false
tf apply-database "${WORK}/quickstart" apply -auto-approve -var restore_test=false
grep -E "^(Warning|Apply complete)" "${LOGS}/apply-database.log" || true

conn="$("${TF}" -chdir="${WORK}/quickstart" output -raw connection_string)"
secret="${DATA_DIR}/databases/quickstart/master-password"
step "seed 1000 rows with psql (table orders)"
PGPASSWORD="$(cat "${secret}")" psql -X -q -v ON_ERROR_STOP=1 "${conn}" <<'SQL'
CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, item text NOT NULL, amount numeric(10,2) NOT NULL);
INSERT INTO orders SELECT g, 'item-' || g, (g % 97) * 1.25 FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING;
SQL
PGPASSWORD="$(cat "${secret}")" psql -X -At "${conn}" -c "SELECT 'rows in orders: ' || count(*) FROM orders"

step "terraform apply again: restore test (base backup + WAL -> scratch copy, pg_amcheck, verify queries)"
tf apply-restore-test "${WORK}/quickstart" apply -auto-approve
grep -E "^(Apply complete)" "${LOGS}/apply-restore-test.log" || true
"${TF}" -chdir="${WORK}/quickstart" output -no-color restore_test

step "connect"
printf 'connection string: %s\n' "${conn}"
printf 'psql:              %s\n' "$("${TF}" -chdir="${WORK}/quickstart" output -raw psql_command)"

step "terraform apply examples/failover-drill: a database, its streaming replica, and a failover drill"
tf init-drill "${WORK}/failover-drill" init -input=false
tf apply-replica "${WORK}/failover-drill" apply -auto-approve -var drill=false
"${TF}" -chdir="${WORK}/failover-drill" output -no-color replica
tf apply-drill "${WORK}/failover-drill" apply -auto-approve
printf 'drill (kill -9 of the primary, promotion, switch-back; full steps in %s):\n' "${LOGS}/apply-drill.log"
"${TF}" -chdir="${WORK}/failover-drill" output -no-color drill

step "terraform plan examples/guardrail-refused: a tier-1 database on the local backend"
tf init-guardrail "${WORK}/guardrail-refused" init -input=false
if "${TF}" -chdir="${WORK}/guardrail-refused" plan -no-color >"${LOGS}/plan-guardrail.log" 2>&1; then
  cat "${LOGS}/plan-guardrail.log"
  die "the guardrail example was expected to be refused, but its plan succeeded"
fi
# The refusal as Terraform prints it: summary, attribute, detail with the fix.
sed -n '/^Error:/,$p' "${LOGS}/plan-guardrail.log" | head -n 60
printf '(plan refused as expected: exit code 1; full output in %s)\n' "${LOGS}/plan-guardrail.log"

step "dbpolicy migration check examples/migrations: an unsafe migration and its safe version"
DBPOLICY="${REPO_ROOT}/target/debug/dbpolicy"
if "${DBPOLICY}" migration check "${REPO_ROOT}/examples/migrations/0001_bad_orders.sql" >"${LOGS}/migration-bad.log" 2>&1; then
  cat "${LOGS}/migration-bad.log"
  die "examples/migrations/0001_bad_orders.sql was expected to be refused, but the check passed"
fi
grep -E '^  FAIL' "${LOGS}/migration-bad.log" | cut -c1-160
printf '(refused as expected: exit code 1; full output with the fixes in %s)\n' "${LOGS}/migration-bad.log"
if ! "${DBPOLICY}" migration check "${REPO_ROOT}/examples/migrations/0002_good_orders.sql" >"${LOGS}/migration-good.log" 2>&1; then
  cat "${LOGS}/migration-good.log"
  die "examples/migrations/0002_good_orders.sql was expected to pass"
fi
tail -n 2 "${LOGS}/migration-good.log"

step "dbpolicy migration dry-run --scratch-copy quickstart: measured on a copy restored from the latest backup"
if ! "${DBPOLICY}" migration dry-run "${REPO_ROOT}/examples/migrations/0003_quickstart_id_bigint.sql" \
  --scratch-copy quickstart --data-dir "${DATA_DIR}" -o text -o "json=${LOGS}/dry-run.json" \
  >"${LOGS}/dry-run.log" 2>&1; then
  cat "${LOGS}/dry-run.log"
  die "the dry run on a scratch copy of quickstart failed (full output: ${LOGS}/dry-run.log)"
fi
grep -E '^dbpolicy: running on a scratch copy' "${LOGS}/dry-run.log" | cut -c1-160 || true
grep -E '^  (FAIL|WARN)' "${LOGS}/dry-run.log" | cut -c1-160 || true
python3 - "${LOGS}/dry-run.json" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["statements"]:
    print(f"  line {s['line']:>2} {s['kind']:<13} {s['duration_ms']:>8.1f} ms  lock {s['lock_mode'] or '-':<24} "
          f"on {s['lock_relation'] or '-':<8} rewrite {str(s['rewrite']).lower()}")
PY
printf 'source unchanged: orders.id is still %s\n' "$(PGPASSWORD="$(cat "${secret}")" psql -X -At "${conn}" \
  -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'")"

ended=$(date +%s)
step "done in $((ended - started)) s ($((ended - after_build)) s after the build). Tear down with: make demo-destroy"
