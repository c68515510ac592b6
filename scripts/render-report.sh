#!/usr/bin/env bash
# Renders the HTML audit report of a sample log in headless Chromium and saves a screenshot, to look at what an
# auditor sees (screen and print). Usage: scripts/render-report.sh [OUT_DIR]   (default: target/audit-report)
# Needs chromium (apt-get install -y chromium). Writes OUT_DIR/{decisions.jsonl,report.html,report.png,report.pdf}.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/audit-report}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out"/decisions.jsonl* "$out"/report.*

chrome="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$chrome" ]]; then
  echo "render-report: chromium not found; install it with: apt-get install -y chromium" >&2
  exit 2
fi

cargo build -q -p dbplatform-policy --bin dbpolicy --example audit_sample
cargo run -q -p dbplatform-policy --example audit_sample -- "$out/decisions.jsonl"
target/debug/dbpolicy audit verify "$out/decisions.jsonl"
target/debug/dbpolicy audit report "$out/decisions.jsonl" --format html --output "$out/report.html"

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile")
"$chrome" "${flags[@]}" --window-size=1200,1600 --screenshot="$out/report.png" "file://$out/report.html" 2>/dev/null
"$chrome" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$out/report.pdf" "file://$out/report.html" 2>/dev/null || true
ls -l "$out"/report.*
echo "render-report: open $out/report.png (screen) and $out/report.pdf (print)"
