#!/usr/bin/env bash
# `dbpolicy migration check` side by side with squawk (npm squawk-cli, pinned, in .tools/squawk):
# 1. Problem kinds: both tools on the shared corpus (policy/tests/fixtures/migrations, examples/migrations,
#    bench/migrations); for each squawk rule that has a DBP-MIG counterpart, the files where squawk reports it and
#    whether dbpolicy reports the counterpart in the same file; then the kinds only one of them reports.
# 2. Speed: a generated corpus of MIG_STATEMENTS (default 20,000) statements in files of 100, checked by
#    `dbpolicy migration check` (release build) and by `squawk --reporter gcc` (its fastest reporter), best of
#    BENCH_RUNS=3 each; the ratio dbpolicy / squawk (target: <= 1.00, not slower).
# Called by scripts/bench.sh (`make bench`; BENCH_MIGRATIONS=0 skips it); runs on its own too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${BENCH_RUNS:-3}"
N="${MIG_STATEMENTS:-20000}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dbpolicy-mig-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

scripts/install-squawk.sh
SQUAWK="$ROOT/.tools/squawk/node_modules/.bin/squawk"
# The platform binary itself: the npm launcher is a Node.js script, whose start-up is not squawk's.
SQUAWK_BIN="$(find "$ROOT/.tools/squawk/node_modules/@squawk-cli" -type f -name squawk -perm -u+x | head -1)"
[[ -x "$SQUAWK_BIN" ]] || SQUAWK_BIN="$SQUAWK"
echo "building dbpolicy (release)..." >&2
cargo build --release -q -p dbplatform-policy --bin dbpolicy
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
DBPOLICY="$TARGET_DIR/release/dbpolicy"

echo "== migrations: problem kinds on the shared corpus (squawk $("$SQUAWK_BIN" --version | awk '{print $2}') vs dbpolicy)"
CORPUS=(policy/tests/fixtures/migrations/*.sql examples/migrations/*.sql bench/migrations/*.sql)
"$SQUAWK_BIN" --reporter gcc "${CORPUS[@]}" >"$WORK/squawk.txt" 2>/dev/null || true
"$DBPOLICY" migration check "${CORPUS[@]}" -o json >"$WORK/dbpolicy.json" 2>"$WORK/dbpolicy.err" || true
python3 - "$WORK/squawk.txt" "$WORK/dbpolicy.json" <<'PY'
import json, re, sys
from collections import defaultdict
# squawk rule -> the DBP-MIG rule that covers the same problem (docs/guides/safe-schema-changes.md).
MAP = {
    "require-concurrent-index-creation": "DBP-MIG-001",
    "require-concurrent-index-deletion": "DBP-MIG-001",
    "ban-concurrent-index-creation-in-transaction": "DBP-MIG-002",
    "adding-required-field": "DBP-MIG-003",
    "adding-field-with-default": "DBP-MIG-003",
    "constraint-missing-not-valid": "DBP-MIG-004",
    "adding-foreign-key-constraint": "DBP-MIG-004",
    "adding-not-nullable-field": "DBP-MIG-004",
    "disallowed-unique-constraint": "DBP-MIG-005",
    "adding-serial-primary-key-field": "DBP-MIG-005",
    "changing-column-type": "DBP-MIG-006",
    "renaming-column": "DBP-MIG-007",
    "renaming-table": "DBP-MIG-007",
    "ban-drop-column": "DBP-MIG-008",
    "ban-drop-table": "DBP-MIG-008",
    "ban-drop-database": "DBP-MIG-008",
    "require-lock-timeout": "DBP-MIG-009",
    "prefer-bigint-over-int": "DBP-MIG-011",
    "prefer-bigint-over-smallint": "DBP-MIG-011",
}
squawk = defaultdict(set)  # rule -> files
for line in open(sys.argv[1]):
    m = re.match(r"^(.*?):(\d+):(\d+): \w+: ([a-z-]+) ", line)
    if m:
        squawk[m.group(4)].add(m.group(1))
ours = defaultdict(set)  # rule -> files
for r in json.load(open(sys.argv[2]))["results"]:
    if r["status"] != "pass":
        ours[r["rule_id"]].add(r["address"])
print(f"{'squawk rule':46} {'dbpolicy rule':13} {'squawk files':>12} {'also dbpolicy':>13}")
missed = 0
for rule in sorted(squawk):
    if rule not in MAP:
        continue
    files = squawk[rule]
    both = files & ours[MAP[rule]]
    missed += len(files - both)
    print(f"{rule:46} {MAP[rule]:13} {len(files):>12} {len(both):>13}")
print(f"squawk findings with a DBP-MIG counterpart that dbpolicy missed (by file): {missed}")
only_squawk = sorted(r for r in squawk if r not in MAP)
print("kinds only squawk reports (no DBP-MIG counterpart, not in the issue's list): " + ", ".join(only_squawk))
covered = set(MAP.values())
only_ours = sorted(r for r in ours if r not in covered or not any(MAP[s] == r for s in squawk if s in MAP))
print("kinds only dbpolicy reports on this corpus: " + ", ".join(only_ours))
PY

echo
echo "== migrations: speed on $N generated statements (best of $RUNS)"
python3 - "$WORK/corpus" "$N" <<'PY'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
T = [
    "SET lock_timeout = '2s';",
    "CREATE INDEX idx_{i} ON t_{i} (c);",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx2_{i} ON t_{i} (c);",
    "ALTER TABLE t_{i} ADD COLUMN c_{i} text;",
    "ALTER TABLE t_{i} ADD COLUMN n_{i} int NOT NULL;",
    "ALTER TABLE t_{i} ADD CONSTRAINT fk_{i} FOREIGN KEY (p) REFERENCES p_{i} (id);",
    "ALTER TABLE t_{i} ADD CONSTRAINT fk2_{i} FOREIGN KEY (p) REFERENCES p_{i} (id) NOT VALID;",
    "ALTER TABLE t_{i} VALIDATE CONSTRAINT fk2_{i};",
    "ALTER TABLE t_{i} ALTER COLUMN a TYPE bigint;",
    "ALTER TABLE t_{i} RENAME COLUMN a TO b_{i};",
    "ALTER TABLE t_{i} DROP COLUMN IF EXISTS d;",
    "CREATE TABLE n_{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb, created_at timestamptz NOT NULL DEFAULT now());",
    "UPDATE t_{i} SET a = a + 1 WHERE id < 100;",
    "INSERT INTO t_{i} (a) VALUES (1), (2);",
    "ALTER TABLE t_{i} ADD CONSTRAINT u_{i} UNIQUE (a);",
    "DROP INDEX idx_{i};",
]
per_file = 100
for f in range(0, n, per_file):
    with open(os.path.join(out, f"{f // per_file:05d}_migration.sql"), "w") as fh:
        for i in range(f, min(f + per_file, n)):
            fh.write(T[i % len(T)].format(i=i) + "\n")
PY
best() { # best CMD... -> best wall seconds of RUNS
    local b=""
    for _ in $(seq "$RUNS"); do
        local s e
        s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
        b=$(awk -v b="$b" -v t="$(awk -v s="$s" -v e="$e" 'BEGIN{print e-s}')" 'BEGIN{ if (b == "" || t < b) print t; else print b }')
    done
    printf '%.3f' "$b"
}
FILES=("$WORK"/corpus/*.sql)
squawk_s=$(best "$SQUAWK_BIN" --reporter gcc "${FILES[@]}")
ours_s=$(best "$DBPOLICY" migration check "$WORK/corpus" -o text)
ours_json_s=$(best "$DBPOLICY" migration check "$WORK/corpus" -o json)
findings_ours=$("$DBPOLICY" migration check "$WORK/corpus" -o json 2>/dev/null | python3 -c 'import json,sys; print(sum(r["status"]!="pass" for r in json.load(sys.stdin)["results"]))' || true)
findings_squawk=$("$SQUAWK_BIN" --reporter gcc "${FILES[@]}" 2>/dev/null | grep -c ': warning: ' || true)
ratio=$(awk -v a="$ours_s" -v b="$squawk_s" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }')
echo "squawk --reporter gcc:            ${squawk_s} s  (${findings_squawk} findings, ${#FILES[@]} files)"
echo "dbpolicy migration check -o text: ${ours_s} s  (${findings_ours} findings)"
echo "dbpolicy migration check -o json: ${ours_json_s} s"
echo "ratio dbpolicy/squawk: ${ratio} (target <= 1.00: $(awk -v r="$ratio" 'BEGIN{ print (r <= 1.0 ? "MET" : "MISSED") }'))"
