#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies (runtime and dev), from uv.lock.
#
#   tools/audit_deps.sh            # all groups (what CI and developers install)
#   tools/audit_deps.sh --no-dev   # only what ships in the image
#
# Exports the lock to a pinned requirements file (every transitive dependency, exact versions,
# no hashes), then asks pip-audit about those pins without resolving again (--no-deps
# --disable-pip: the lock already is the resolution, and nothing is installed). --strict makes a
# requirement pip-audit cannot check a failure rather than a silent skip.
#
# Exit status: 0 clean, 1 vulnerabilities found, 2 the audit could not complete (the
# vulnerability service did not answer). Needs network access to that service (PyPI's JSON API
# by default; OSV with PIP_AUDIT_SERVICE=osv).
set -euo pipefail
cd "$(dirname "$0")/.."

UV="${UV:-.uv/bin/uv}"
PIP_AUDIT="${PIP_AUDIT:-.venv/bin/pip-audit}"
SERVICE="${PIP_AUDIT_SERVICE:-pypi}"
DEP_GROUPS=(--all-groups)
if [[ "${1:-}" == "--no-dev" ]]; then
    DEP_GROUPS=(--no-dev)
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
requirements="$workdir/requirements.txt"

# --no-emit-project: our own package is not on PyPI, so it cannot be audited there.
"$UV" export --locked --no-hashes --no-header --no-emit-project --format requirements-txt \
    "${DEP_GROUPS[@]}" --output-file "$requirements" >/dev/null
echo "auditing $(grep -c '==' "$requirements") locked requirements (${DEP_GROUPS[*]}) against $SERVICE"

log="$workdir/pip-audit.log"
status=0
"$PIP_AUDIT" -r "$requirements" --no-deps --disable-pip --strict \
    --vulnerability-service "$SERVICE" --desc on --progress-spinner off 2>&1 | tee "$log" \
    || status=${PIPESTATUS[0]}
if [[ $status -eq 0 ]]; then
    echo "pip-audit: no known vulnerabilities in the locked dependencies"
elif grep -q -E "could not be audited|ConnectionError|Failed to resolve|HTTPError" "$log"; then
    # Not a verdict: the vulnerability service could not be asked about every pin.
    echo "pip-audit: AUDIT INCOMPLETE: the $SERVICE vulnerability service did not answer for every"
    echo "locked requirement (see above). Re-run with network access, or PIP_AUDIT_SERVICE=osv."
    exit 2
else
    echo "pip-audit: known vulnerabilities found (listed above)"
fi
exit $status
