#!/usr/bin/env bash
# Gate 1 of the contract: lint api/openapi.yaml with Spectral and the
# committed ruleset api/.spectral.yaml. Prints one short block per problem
# (rule, place, message) and how to fix it, instead of Spectral's wide table.
#
# Usage: tools/contract/lint-spec.sh [SPEC] (default api/openapi.yaml).
# Needs the pinned Spectral: `make contract-tools` installs it.
set -euo pipefail
cd "$(dirname "$0")/../.."

spec=${1:-api/openapi.yaml}
ruleset=api/.spectral.yaml
spectral=tools/contract/node_modules/.bin/spectral

if [[ ! -x $spectral ]]; then
  echo "lint-spec: FAILED — Spectral is not installed ($spectral)." >&2
  echo "  Fix: run 'make contract-tools' (npm ci --prefix tools/contract; needs Node 20.17+)." >&2
  exit 2
fi

out=$(mktemp); err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
rc=0
"$spectral" lint --quiet --format json --fail-severity warn -r "$ruleset" "$spec" >"$out" 2>"$err" || rc=$?

if [[ $rc -eq 0 ]]; then
  echo "lint-spec: OK — $spec passes every rule of $ruleset."
  exit 0
fi

# Spectral exits 1 for findings and 2 when it cannot run (bad ruleset,
# unreadable spec); only the first has a JSON report to summarize.
if ! summary=$(node - "$out" "$spec" <<'JS' 2>/dev/null
const fs = require('fs');
const [file, spec] = process.argv.slice(2);
const results = JSON.parse(fs.readFileSync(file, 'utf8'));
if (!Array.isArray(results) || results.length === 0) process.exit(3);
const names = ['error', 'warning', 'info', 'hint'];
const lines = [];
for (const r of results) {
  const where = (r.path || []).map(String).join('.');
  const line = r.range && r.range.start ? r.range.start.line + 1 : '?';
  lines.push(`  ${names[r.severity] ?? r.severity}  [${r.code}]  ${spec}:${line}`);
  if (where) lines.push(`      at ${where}`);
  lines.push(`      ${r.message}`);
}
const rules = [...new Set(results.map(r => r.code))].join(', ');
console.log(`lint-spec: FAILED — ${results.length} problem(s) in ${spec}, rule(s): ${rules}`);
console.log(lines.join('\n'));
JS
); then
  echo "lint-spec: FAILED — Spectral could not lint $spec (exit $rc):" >&2
  sed -n '1,20p' "$err" "$out" >&2
  exit 2
fi

echo "$summary" >&2
cat >&2 <<MSG

How to fix:
  - Change $spec at the line shown; the message says what the rule wants.
    Then run 'go generate ./...' and commit api/ and gen/ together.
  - If a rule is wrong for this project, switch it off in $ruleset
    ('RULE: off') and add the reason to the list at the top of that file.
  - Rerun: make lint-spec
MSG
exit 1
