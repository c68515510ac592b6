#!/usr/bin/env bash
# `make drill-figures`: measured RTO and RPO of failover drills on the local backend. Applies
# examples/failover-drill (a tier-3 database and its streaming replica), then runs DRILLS (default 5) drills with
# failure = "stop" and DRILLS with failure = "crash" (each a real failover: fence, stop or SIGKILL, pg_promote,
# first committed write, switch-back), and prints every drill's figures and, per failure mode, the median and the
# maximum of rto_seconds, rpo_seconds and rows_lost. Destroys what it made at the end.
# Needs the dev build of the provider (make build) and Terraform 1.0.3 (make tools). Work files: .tools/drill-figures.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DRILLS="${DRILLS:-5}"
DIR="${TOOLS_DIR}/drill-figures"
WORK="${DIR}/work"
MIRROR="${DIR}/mirror"
TF="${TOOLS_BIN}/terraform"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "${REPO_ROOT}/Cargo.toml" | head -1)"
BIN="${REPO_ROOT}/target/debug/terraform-provider-dbplatform"
[ -x "${TF}" ] || die "${TF} is missing; run make tools"
[ -x "${BIN}" ] || die "${BIN} is missing; run make build"
need_cmd python3 "install python3 (it computes the medians)"

export TF_CLI_CONFIG_FILE="${DIR}/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 TF_INPUT=0
export TF_VAR_data_dir="${DIR}/data"
rm -rf "${WORK}" "${MIRROR}"
mkdir -p "${WORK}" "${TF_VAR_data_dir}"
chmod 0755 "${DIR}" "${TF_VAR_data_dir}"
plugin_dir="${MIRROR}/registry.terraform.io/dbplatform/dbplatform/${VERSION}/linux_amd64"
mkdir -p "${plugin_dir}"
strip --strip-debug -o "${plugin_dir}/terraform-provider-dbplatform_v${VERSION}" "${BIN}" \
  || cp -f "${BIN}" "${plugin_dir}/terraform-provider-dbplatform_v${VERSION}"
cat >"${TF_CLI_CONFIG_FILE}" <<CFG
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
CFG
cp "${REPO_ROOT}/examples/failover-drill/"*.tf "${WORK}/"
# No objectives of the example here: the figures are measured, not judged.
sed -i -e '/max_rto_seconds = 60/d' -e '/max_rpo_seconds = 5/d' "${WORK}/main.tf"

tf() { "${TF}" -chdir="${WORK}" "$@" -no-color >>"${DIR}/terraform.log" 2>&1 || { tail -n 40 "${DIR}/terraform.log" >&2; die "terraform $1 failed (log: ${DIR}/terraform.log)"; }; }
cleanup() { "${TF}" -chdir="${WORK}" destroy -auto-approve -no-color >>"${DIR}/terraform.log" 2>&1 || log "destroy failed; see ${DIR}/terraform.log"; }
trap cleanup EXIT

tf init -input=false
tf apply -auto-approve -var drill=false
results="${DIR}/results.tsv"
: >"${results}"
for failure in stop crash; do
  for i in $(seq 1 "${DRILLS}"); do
    tf apply -auto-approve -var "failure=${failure}" -replace='dbplatform_failover_drill.app[0]'
    "${TF}" -chdir="${WORK}" output -json drill | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["succeeded"] and d["topology_restored"], d
print("\t".join(str(d[k]) for k in ("failure", "rto_seconds", "rpo_seconds", "rows_lost")))' >>"${results}"
    tail -n 1 "${results}" | awk -v i="$i" -F'\t' '{printf "drill %-5s #%s: rto %.3f s, rpo %.3f s, rows lost %s\n", $1, i, $2, $3, $4}'
  done
done
python3 - "${results}" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print("\nfailure  drills  RTO median  RTO max   RPO median  RPO max   rows lost median  rows lost max")
for f in ("stop", "crash"):
    r = [x for x in rows if x[0] == f]
    rto = [float(x[1]) for x in r]; rpo = [float(x[2]) for x in r]; lost = [int(x[3]) for x in r]
    print(f"{f:<8} {len(r):>6}  {statistics.median(rto):>8.3f} s {max(rto):>7.3f} s  {statistics.median(rpo):>8.3f} s {max(rpo):>7.3f} s  {statistics.median(lost):>16} {max(lost):>14}")
PY
