#!/usr/bin/env bash
# action.yml step 2: run `dbpolicy check` once for three outputs: SARIF to SARIF_FILE, annotations on stdout
# (at most MAX_ANNOTATIONS, worst first) and the job summary ($GITHUB_STEP_SUMMARY). Records the exit code
# and the SARIF path as step outputs. A policy failure (1) lets the upload step run first and is turned into
# a failed step by the `verdict` step; usage or input errors (2) fail here.
set -uo pipefail
sarif="${SARIF_FILE:-dbpolicy.sarif}"
# EXTRA_ARGS is split on spaces on purpose: it holds several flags.
# shellcheck disable=SC2086
dbpolicy check "${PLAN:?the plan input is required}" --format "sarif=${sarif}" --format github \
  --max-annotations "${MAX_ANNOTATIONS:-10}" ${EXTRA_ARGS:-}
code=$?
echo "exit-code=${code}" >> "${GITHUB_OUTPUT:?}"
if [ "${code}" -ge 2 ]; then
  echo "::error title=dbpolicy::dbpolicy check could not run (exit ${code}); see the message above"
  exit "${code}"
fi
echo "sarif-file=${sarif}" >> "${GITHUB_OUTPUT}"
