#!/usr/bin/env bash
# Gate 2 of the contract: refuse breaking changes. oasdiff compares the last
# released contract (api/released/openapi.yaml) with the working spec and
# fails on any change at level ERR.
#
# tools/contract/oasdiff-levels.txt (plain "rule LEVEL" lines; oasdiff
# accepts no comments there) raises four changes oasdiff only warns about or
# notes to ERR, because our contract is published and clients rely on it:
#   response-optional-property-removed   a client may read an optional
#                                        response property (name, resellerId...)
#   request-property-removed             clients send it; a server that later
#                                        rejects unknown properties breaks them
#   request-parameter-removed            a published filter that disappears
#                                        silently changes a client's results
#   response-non-success-status-removed  the documented statuses and the error
#                                        body are part of the contract
#
# Usage: tools/contract/check-breaking.sh [BASE [REVISION]]
#   (defaults: api/released/openapi.yaml api/openapi.yaml)
# oasdiff runs pinned through the Go module proxy, not from go.mod; override
# with OASDIFF="path/to/oasdiff" if you have the same version installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${1:-api/released/openapi.yaml}
revision=${2:-api/openapi.yaml}
levels=tools/contract/oasdiff-levels.txt
oasdiff=${OASDIFF:-go run github.com/oasdiff/oasdiff@v1.37.0}

for f in "$base" "$revision"; do
  if [[ ! -f $f ]]; then
    echo "check-breaking: FAILED — $f does not exist." >&2
    echo "  The last released contract lives in api/released/openapi.yaml (see README, 'Breaking the contract on purpose')." >&2
    exit 2
  fi
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
# --allow-external-refs=false: our specs are self-contained; never fetch.
$oasdiff breaking "$base" "$revision" --fail-on ERR --severity-levels "$levels" \
  --allow-external-refs=false --color never --format text >"$out" 2>&1 || rc=$?
# `go run` exits 1 whenever oasdiff fails and prints oasdiff's own code as
# "exit status N": take N (1 = breaking changes, 100+ = could not compare).
if real=$(grep -E '^exit status [0-9]+$' "$out" | tail -n 1 | grep -oE '[0-9]+$'); then
  rc=$real
fi
grep -Ev '^exit status [0-9]+$' "$out" >"$out.clean" || true
mv "$out.clean" "$out"

case $rc in
  0)
    if grep -q . "$out" && ! grep -q '^No changes' "$out"; then
      echo "check-breaking: OK — no breaking change against $base (non-breaking changes noted by oasdiff below)."
      sed -n '1,40p' "$out"
    else
      echo "check-breaking: OK — no breaking change against $base."
    fi
    ;;
  1)
    rules=$(grep -o '^error[[:space:]]*\[[^]]*\]' "$out" | sed 's/.*\[\(.*\)\]/\1/' | sort -u | paste -sd, - | sed 's/,/, /g' || true)
    {
      echo "check-breaking: FAILED — $revision breaks the released contract $base."
      echo "  rule(s): ${rules:-see below}"
      echo
      # oasdiff's text report: one block per change (level [rule] / API / what changed).
      grep -v '^[[:space:]]*$' "$out" | sed 's/^/  /' | sed -n '1,60p'
      n=$(grep -c '^error' "$out" || true)
      [[ $n -gt 15 ]] && echo "  ... ($n errors in all; run the command below for the full list)"
      cat <<MSG

How to fix:
  - Not meant to break clients? Undo that change in $revision, or make it
    additive: add the new property/parameter as optional, add a new path
    instead of changing one, widen rather than narrow a type or a limit.
  - Meant to break (a new major version)? Follow "Breaking the contract on
    purpose" in the README: bump info.version's major, update
    api/released/openapi.yaml in the same commit and say why in its message.
  - Full report: go run github.com/oasdiff/oasdiff@v1.37.0 breaking $base $revision
MSG
    } >&2
    exit 1
    ;;
  *)
    {
      echo "check-breaking: FAILED — oasdiff could not compare $base and $revision (exit $rc):"
      sed -n '1,20p' "$out" | sed 's/^/  /'
      echo "  Fix what the error names: both specs must be valid OpenAPI (make lint-spec shows where), and"
      echo "  $levels must hold only 'rule-id LEVEL' lines. oasdiff is fetched through the Go module proxy."
    } >&2
    exit 2
    ;;
esac
