#!/usr/bin/env bash
# Restore test against the raw PostgreSQL tools, side by side in one run, on a local database of ~1 GB seeded
# after create (BENCH_RESTORE_ROWS rows, default 3,600,000 ≈ 950 MB):
#   raw tools: pg_basebackup (tar, gzip, WAL streamed, fast checkpoint), untar, start the copy, the checksum
#              query on the copy and on the source, pg_amcheck --install-missing --all on the copy;
#   provider:  `terraform apply` adding a dbplatform_restore_test with the same checksum as a match_source verify
#              check (refresh takes a fresh base backup once the WAL since the last one outweighs
#              local.base_backup_wal_percent of the data; then restore, pg_amcheck and the checksums).
# Prints both wall times and their ratio (target: restore test <= 1.3x the raw tools). Needs PostgreSQL server
# binaries and psql, runs as root (servers run as the `postgres` OS user), and uses ~4 GB of scratch disk under
# TMPDIR, removed at the end. Run by `make bench` (BENCH_RESTORE=0 skips it) or alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROWS="${BENCH_RESTORE_ROWS:-3600000}"
PGBIN="${DBPLATFORM_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
for tool in pg_basebackup pg_ctl pg_amcheck; do
    if [[ ! -x "$PGBIN/$tool" ]]; then
        echo "restore bench skipped: no $tool in ${PGBIN:-/usr/lib/postgresql/*/bin} (apt-get install postgresql)" >&2
        exit 0
    fi
done
command -v psql >/dev/null || { echo "restore bench skipped: no psql" >&2; exit 0; }
TF="${TERRAFORM:-}"
for cand in /usr/local/bin/terraform "$ROOT/.tools/bin/terraform" "$(command -v terraform || true)"; do
    if [[ -z "$TF" && -n "$cand" && -x "$cand" ]]; then TF="$cand"; fi
done
[[ -n "$TF" ]] || { echo "restore bench skipped: no terraform" >&2; exit 0; }

W="$(mktemp -d "${TMPDIR:-/tmp}/dbplatform-restore-bench.XXXXXX")"
chmod 755 "$W"
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_servers_under() { # stop_servers_under DIR: every PostgreSQL server whose data directory is under DIR
    local pid
    for pid in $(find "$1" -name postmaster.pid 2>/dev/null); do
        as_pg "$PGBIN/pg_ctl" stop -D "$(dirname "$pid")" -m immediate >/dev/null 2>&1 || true
    done
}
# The databases the provider created (and the OS users it made for them) go through `terraform destroy`, never
# through rm: removing a database directory by hand would leak its dbp_* OS user. This script never removes an OS
# user itself; it only says which one is left when the provider could not remove it.
destroy_through_terraform() {
    [[ -f "$W/tf/terraform.tfstate" || -d "$W/data/databases" ]] || return 0
    if ! compgen -G "$W/data/databases/*/metadata.json" >/dev/null \
        && [[ -z "$("$TF" -chdir="$W/tf" state list 2>/dev/null)" ]]; then
        return 0 # already destroyed (the normal end of the run)
    fi
    local attempt
    for attempt in 1 2; do
        if [[ $attempt == 2 ]]; then
            # What an interrupted create leaves converges on the next apply (crash-safe steps), then goes.
            "$TF" -chdir="$W/tf" apply -auto-approve -input=false -no-color -var restore_test=false \
                >"$W/cleanup-apply.log" 2>&1 || true
        fi
        "$TF" -chdir="$W/tf" destroy -auto-approve -input=false -no-color >"$W/cleanup-destroy.log" 2>&1 || true
        if ! compgen -G "$W/data/databases/*/metadata.json" >/dev/null; then
            return 0
        fi
    done
    return 1
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # Every server first (the raw copy; a scratch restore an interrupted apply left running as the database's OS
    # user, which would keep that user from being removed), then the database through Terraform (its destroy
    # handles a stopped server).
    stop_servers_under "$W"
    if ! destroy_through_terraform; then
        local left="" m
        for m in "$W"/data/databases/*/metadata.json; do
            left+="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("os_user") or "")' "$m" 2>/dev/null) "
        done
        echo "restore bench cleanup: terraform destroy did not remove the benchmark database (see" \
            "$W/cleanup-destroy.log); $W is kept so it can be retried:" \
            "TF_CLI_CONFIG_FILE=$W/terraformrc DBPLATFORM_PG_BINDIR=$PGBIN $TF -chdir=$W/tf destroy -auto-approve." \
            "OS user(s) it created: ${left:-none recorded}" >&2
        stop_servers_under "$W"
        exit $(( rc == 0 ? 1 : rc ))
    fi
    stop_servers_under "$W"
    rm -rf "$W"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "restore bench: building the release provider..." >&2
cargo build --release -q -p terraform-provider-dbplatform
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
pdir="$W/mirror/registry.terraform.io/dbplatform/dbplatform/$VERSION/linux_amd64"
mkdir -p "$pdir"
strip -o "$pdir/terraform-provider-dbplatform_v$VERSION" "$TARGET_DIR/release/terraform-provider-dbplatform"
cat >"$W/terraformrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$W/mirror"
    include = ["dbplatform/dbplatform"]
  }
  direct {
    exclude = ["dbplatform/dbplatform"]
  }
}
TFRC
export TF_CLI_CONFIG_FILE="$W/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 DBPLATFORM_PG_BINDIR="$PGBIN"
unset TF_LOG TF_LOG_PROVIDER
CHECKSUM="SELECT count(*), md5(string_agg(v, '' ORDER BY id)) FROM bench"
mkdir -p "$W/tf" "$W/data"
cat >"$W/tf/main.tf" <<TF
terraform {
  required_providers {
    dbplatform = { source = "dbplatform/dbplatform" }
  }
}

variable "restore_test" {
  type    = bool
  default = true
}

provider "dbplatform" {
  backend = "local"
  local {
    data_dir = "$W/data"
  }
  default_tags = {
    owner               = "bench"
    cost_center         = "cc-1"
    data_classification = "internal"
  }
}

resource "dbplatform_database" "db" {
  name = "restorebench"
  tier = "tier-3"
}

resource "dbplatform_restore_test" "t" {
  count       = var.restore_test ? 1 : 0
  database_id = dbplatform_database.db.id
  verify {
    name         = "checksum"
    query        = "$CHECKSUM"
    match_source = true
  }
}

output "connection_string" { value = dbplatform_database.db.connection_string }
output "secret" { value = dbplatform_database.db.master_user_secret_path }
output "restore_seconds" { value = var.restore_test ? dbplatform_restore_test.t[0].restore_seconds : null }
output "integrity_check" { value = var.restore_test ? dbplatform_restore_test.t[0].integrity_check : null }
output "succeeded" { value = var.restore_test ? dbplatform_restore_test.t[0].succeeded : null }
TF
tf() { local log="$W/$1.log"; shift; "$TF" -chdir="$W/tf" "$@" -no-color >"$log" 2>&1 || { echo "terraform $* failed:" >&2; tail -30 "$log" >&2; exit 1; }; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

tf init init -input=false
tf create apply -auto-approve -input=false -var restore_test=false
conn="$("$TF" -chdir="$W/tf" output -raw connection_string)"
export PGPASSWORD="$(cat "$("$TF" -chdir="$W/tf" output -raw secret)")"
echo "restore bench: seeding $ROWS rows..." >&2
t0="$(now)"
psql -X -q -v ON_ERROR_STOP=1 "$conn" <<SQL
CREATE TABLE bench (id bigint PRIMARY KEY, v text NOT NULL);
INSERT INTO bench SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, $ROWS) g;
SQL
size="$(psql -X -At "$conn" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
echo "restore bench: seeded $size in $(secs "$t0" "$(now)") s" >&2

# Raw tools, by hand, from a fresh base backup.
rest="${conn#postgresql://}"
user="${rest%%@*}"
hostport="${rest#*@}"; hostport="${hostport%%/*}"
dbname="${rest#*/}"; dbname="${dbname%%\?*}"
port2=$(( ${hostport##*:} % 1000 + 55000 ))
raw="$W/raw"; mkdir -p "$raw"; chown postgres "$raw" 2>/dev/null || true
t0="$(now)"
# The master user is not a superuser and has no REPLICATION: base backups and amcheck go through the provider's
# admin role, by peer over the server's Unix socket, as the provider itself does.
meta="$(ls "$W"/data/databases/*/metadata.json | head -1)"
sock="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["socket_dir"])' "$meta")"
"$PGBIN/pg_basebackup" -h "$sock" -p "${hostport##*:}" -U dbplatform_admin -D "$raw/backup" -Ft -z -X stream -c fast --no-password
chmod -R a+rX "$raw/backup"
as_pg mkdir -m 700 "$raw/pgdata"
as_pg tar -xzf "$raw/backup/base.tar.gz" -C "$raw/pgdata"
as_pg tar -xzf "$raw/backup/pg_wal.tar.gz" -C "$raw/pgdata/pg_wal"
as_pg "$PGBIN/pg_ctl" start -w -D "$raw/pgdata" -l "$raw/log" \
    -o "-p $port2 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$raw -c archive_mode=off" >/dev/null
copy_conn="postgresql://$user@127.0.0.1:$port2/$dbname"
a="$(psql -X -At "$copy_conn" -c "$CHECKSUM")"
b="$(psql -X -At "$conn" -c "$CHECKSUM")"
"$PGBIN/pg_amcheck" --install-missing --all -h "$raw" -p "$port2" -U dbplatform_admin --no-password >"$raw/amcheck.log" 2>&1 \
    || { echo "raw pg_amcheck failed:" >&2; cat "$raw/amcheck.log" >&2; exit 1; }
raw_s="$(secs "$t0" "$(now)")"
[[ "$a" == "$b" ]] || { echo "raw copy checksum $a differs from the source's $b" >&2; exit 1; }
as_pg "$PGBIN/pg_ctl" stop -D "$raw/pgdata" -m fast >/dev/null
rm -rf "$raw"

# The restore test, through Terraform.
t0="$(now)"
tf restore apply -auto-approve -input=false
rt_s="$(secs "$t0" "$(now)")"
[[ "$("$TF" -chdir="$W/tf" output -raw succeeded)" == true ]] || { echo "the restore test failed:" >&2; tail -30 "$W/restore.log" >&2; exit 1; }
echo "restore test vs raw tools on $size ($ROWS rows seeded after create), same run:"
echo "  raw tools (pg_basebackup, untar, start, checksum on copy and source, pg_amcheck): ${raw_s} s"
echo "  terraform apply of dbplatform_restore_test (refresh incl. any base backup, restore, pg_amcheck, checksums): ${rt_s} s" \
    "(restore_seconds $("$TF" -chdir="$W/tf" output -raw restore_seconds), $("$TF" -chdir="$W/tf" output -raw integrity_check))"
awk -v a="$rt_s" -v b="$raw_s" 'BEGIN{r=a/b; printf "  restore test / raw tools: %.2fx (target <= 1.3: %s)\n", r, (r <= 1.3 ? "MET" : "MISSED")}'
tf destroy destroy -auto-approve -input=false
