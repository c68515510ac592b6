#!/usr/bin/env bash
# dbpolicy speed and memory: `dbpolicy check` on generated plans of N = 10, 1000, 5000 aws_db_instance
# resources, with the embedded default bundle and with a conftest-style 8-rule policy (policy/benches/conftest8),
# printing wall time and peak RSS of each run. Targets (N=5000, ~44 MiB plan): < 0.6 s wall, < 130 MiB peak RSS,
# time linear in N. Used by `make bench`; BENCH_SIZES="10 1000" and BENCH_RUNS=3 (best of) can be overridden.
# Then the audit log: AUDIT_N signed decision records appended (each locked and fsync'ed, as the provider and
# `dbpolicy check --audit-log` write them) and the whole chain verified, via the audit_bench example.
# AUDIT_N defaults to 100000; AUDIT_N=0 skips it. Last, binary sizes and the plan-time overhead of one
# dbplatform_tier data source versus a bare `terraform plan` (median of PLAN_RUNS=9; BENCH_PLAN=0 skips it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZES="${BENCH_SIZES:-10 1000 5000}"
RUNS="${BENCH_RUNS:-3}"
AUDIT_N="${AUDIT_N:-100000}"
if ! [[ $AUDIT_N =~ ^[0-9]+$ ]]; then
    echo "AUDIT_N=$AUDIT_N is not a whole number of records (e.g. AUDIT_N=10000; 0 skips the audit figures)" >&2
    exit 2
fi
NOW="2026-11-25T12:00:00Z"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dbpolicy-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "building release binaries (dbpolicy, gen_plan)..." >&2
cargo build --release -q -p dbplatform-policy -p dbplatform-bench --bins
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
DBPOLICY="$TARGET_DIR/release/dbpolicy"
GEN_PLAN="$TARGET_DIR/release/gen_plan"

if [[ -x /usr/bin/time ]]; then
    measure() { # measure OUT_PREFIX CMD... -> prints "wall_s rss_mib exit cpu_s"
        local out="$1"; shift
        set +e
        /usr/bin/time -f '%e %M %U %S' -o "$out.time" "$@" >"$out.stdout" 2>"$out.stderr"
        local rc=$?
        set -e
        # GNU time writes "Command exited with non-zero status N" first when the command fails.
        local last; last="$(tail -n 1 "$out.time")"
        awk -v rc="$rc" '{ printf "%.2f %.1f %d %.2f\n", $1, $2/1024, rc, $3+$4 }' <<<"$last"
    }
else
    measure() { # fallback: python getrusage of the child
        local out="$1"; shift
        python3 - "$out" "$@" <<'PY'
import resource, subprocess, sys, time
out = sys.argv[1]
t = time.monotonic()
with open(out + ".stdout", "wb") as o, open(out + ".stderr", "wb") as e:
    rc = subprocess.call(sys.argv[2:], stdout=o, stderr=e)
wall = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.2f} {ru.ru_maxrss / 1024:.1f} {rc} {ru.ru_utime + ru.ru_stime:.2f}")
PY
    }
fi

# best of RUNS: lowest wall time, with its RSS
best_of() {
    local out="$1"; shift
    local best=""
    for _ in $(seq "$RUNS"); do
        local r; r="$(measure "$out" "$@")"
        if [[ -z "$best" ]] || awk -v a="${r%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best="$r"; fi
    done
    echo "$best"
}

echo "(wall time depends on machine load; cpu s = user + system time over both cores)"
verdicts=()
printf '%-8s %-10s %-12s %8s %8s %10s %5s  %s\n' "N" "plan MiB" "policy" "wall s" "cpu s" "peak MiB" "exit" "summary"
for n in $SIZES; do
    plan="$WORK/plan-$n.json"
    "$GEN_PLAN" --instances "$n" >"$plan"
    size="$(awk -v b="$(stat -c %s "$plan")" 'BEGIN{printf "%.1f", b/1048576}')"
    for mode in default conftest8; do
        if [[ $mode == default ]]; then
            args=(check "$plan" --now "$NOW")
        else
            args=(check "$plan" --now "$NOW" --no-default-bundle --policy policy/benches/conftest8 --namespace main)
        fi
        read -r wall rss rc cpu < <(best_of "$WORK/run-$n-$mode" "$DBPOLICY" "${args[@]}")
        if [[ $rc -ge 2 ]]; then
            echo "dbpolicy failed (exit $rc) on N=$n $mode:" >&2
            cat "$WORK/run-$n-$mode.stderr" >&2
            exit 1
        fi
        summary="$(grep -E '^[0-9]+ resources' "$WORK/run-$n-$mode.stdout" | tail -n 1 || true)"
        printf '%-8s %-10s %-12s %8s %8s %10s %5s  %s\n' "$n" "$size" "$mode" "$wall" "$cpu" "$rss" "$rc" "$summary"
        if [[ $n == 5000 ]]; then
            verdicts+=("$(awk -v m="$mode" -v w="$wall" -v r="$rss" 'BEGIN {
                printf "targets at N=5000, %s: %s wall %.2f s (< 0.6), %s peak %.1f MiB (< 130)", m,
                    (w < 0.6 ? "MET" : "MISSED"), w, (r < 130 ? "MET" : "MISSED"), r }')")
        fi
    done
done
echo "exit 1 = the plan has policy failures (expected for these generated plans)"
for v in "${verdicts[@]}"; do echo "$v"; done

if [[ $AUDIT_N -gt 0 ]]; then
    echo
    echo "audit log: $AUDIT_N signed decision records, append (lock + fsync each) then verify the chain..." >&2
    echo "(600-2800 records/s on this 2-core machine depending on load: 100000 take 35 s to 3 min; AUDIT_N=10000 is quicker)" >&2
    cargo run --release -q -p dbplatform-policy --example audit_bench -- "$AUDIT_N" --signed
fi

# Provider plan overhead: `terraform plan` of a configuration with one dbplatform_tier data source against a bare
# configuration (no provider), PLAN_RUNS (default 9) runs each, interleaved in the same run so machine load hits
# both alike; the median difference is what the provider costs a plan (start-up, Terraform hashing the binary,
# handshake, schema, one read). Installed as `make install` does: release build, stripped. Target: <= 0.2 s.
# BENCH_PLAN=0 skips it.
if [[ "${BENCH_PLAN:-1}" != 0 ]]; then
    TF="${TERRAFORM:-}"
    if [[ -z "$TF" ]]; then
        for cand in /usr/local/bin/terraform "$ROOT/.tools/bin/terraform" "$(command -v terraform || true)"; do
            if [[ -n "$cand" && -x "$cand" ]]; then TF="$cand"; break; fi
        done
    fi
    if [[ -z "$TF" ]]; then
        echo "no terraform found (TERRAFORM=..., /usr/local/bin/terraform or make tools): provider plan overhead skipped" >&2
        exit 0
    fi
    PLAN_RUNS="${PLAN_RUNS:-9}"
    VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
    echo >&2
    echo "building the release provider..." >&2
    cargo build --release -q -p terraform-provider-dbplatform
    PROVIDER="$TARGET_DIR/release/terraform-provider-dbplatform"
    pdir="$WORK/mirror/registry.terraform.io/dbplatform/dbplatform/$VERSION/linux_amd64"
    mkdir -p "$pdir"
    strip -o "$pdir/terraform-provider-dbplatform_v$VERSION" "$PROVIDER"
    mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f MiB", b/1048576}'; }
    echo "binary sizes: provider release $(mib "$PROVIDER"), installed (stripped) $(mib "$pdir/terraform-provider-dbplatform_v$VERSION"), dbpolicy release $(mib "$DBPOLICY")"
    cat >"$WORK/terraformrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$WORK/mirror"
    include = ["dbplatform/dbplatform"]
  }
  direct {
    exclude = ["dbplatform/dbplatform"]
  }
}
TFRC
    export TF_CLI_CONFIG_FILE="$WORK/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
    unset TF_LOG TF_LOG_PROVIDER
    mkdir -p "$WORK/tf-bare" "$WORK/tf-tier"
    echo 'output "x" { value = 1 }' >"$WORK/tf-bare/main.tf"
    cat >"$WORK/tf-tier/main.tf" <<'TF'
terraform {
  required_providers {
    dbplatform = { source = "dbplatform/dbplatform" }
  }
}

provider "dbplatform" {}

data "dbplatform_tier" "t1" {
  name = "tier-1"
}

output "x" { value = data.dbplatform_tier.t1.name }
TF
    for d in tf-bare tf-tier; do
        (cd "$WORK/$d" && "$TF" init -input=false -no-color >"$WORK/$d.init.log" 2>&1) || {
            echo "terraform init failed in $d:" >&2; cat "$WORK/$d.init.log" >&2; exit 1; }
    done
    plan_s() { # seconds of one `terraform plan` in $1
        local s e
        s="$(date +%s%N)"
        (cd "$WORK/$1" && "$TF" plan -input=false -lock=false -no-color >"$WORK/$1.plan.log" 2>&1) || {
            echo "terraform plan failed in $1:" >&2; cat "$WORK/$1.plan.log" >&2; exit 1; }
        e="$(date +%s%N)"
        awk -v a="$s" -v b="$e" 'BEGIN{printf "%.3f\n", (b-a)/1e9}'
    }
    bare=(); tier=()
    for _ in $(seq "$PLAN_RUNS"); do
        bare+=("$(plan_s tf-bare)")
        tier+=("$(plan_s tf-tier)")
    done
    median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
    mb="$(median "${bare[@]}")"; mt="$(median "${tier[@]}")"
    echo "terraform plan ($("$TF" version | head -1), median of $PLAN_RUNS): bare ${mb} s, one dbplatform_tier ${mt} s"
    awk -v a="$mb" -v b="$mt" 'BEGIN{d=b-a; printf "provider plan overhead: %.3f s (target <= 0.2 s: %s)\n", d, (d <= 0.2 ? "MET" : "MISSED")}'
fi
