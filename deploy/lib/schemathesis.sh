#!/usr/bin/env bash
# shellcheck shell=bash
# Schemathesis (property-based API testing from the api's own /openapi.json) in a private
# Python venv under .local/venv-schemathesis, for tests/tests/e2e/schemathesis.rs.
#
# Sourced by deploy/local.sh (`ensure_schemathesis`), or executed on its own:
#   deploy/lib/schemathesis.sh        installs if needed, prints the path of the `st` CLI
# Idempotent: a venv that already holds this exact version is left alone (no network).
#
# Environment: RATIFY_LOCAL_DIR (default <checkout>/.local), RATIFY_SCHEMATHESIS_VENV
# (default $RATIFY_LOCAL_DIR/venv-schemathesis), PYTHON (default python3).

# The version verified against this api (CLI flags and config keys of 4.x are used).
SCHEMATHESIS_VERSION=4.32.5

schemathesis_venv() {
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
    printf '%s\n' "${RATIFY_SCHEMATHESIS_VENV:-${RATIFY_LOCAL_DIR:-$root/.local}/venv-schemathesis}"
}

# ensure_schemathesis: the venv exists with SCHEMATHESIS_VERSION; prints nothing on stdout.
ensure_schemathesis() {
    local venv stamp lock_fd python=${PYTHON:-python3}
    venv=$(schemathesis_venv)
    stamp=$venv/.ratify-schemathesis-version
    if [[ -x $venv/bin/st && -f $stamp && $(<"$stamp") == "$SCHEMATHESIS_VERSION" ]]; then
        return 0
    fi
    command -v "$python" >/dev/null || _st_die "$python is missing: install Python 3 (Debian: apt-get install python3 python3-venv)"
    mkdir -p "$(dirname "$venv")"
    # One installer at a time (two test runs may start together); the second finds it done.
    exec {lock_fd}>"$venv.lock"
    flock "$lock_fd"
    if [[ -x $venv/bin/st && -f $stamp && $(<"$stamp") == "$SCHEMATHESIS_VERSION" ]]; then
        exec {lock_fd}>&-
        return 0
    fi
    _st_log "installing schemathesis==$SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >&2; then
        # Debian's python3 has no ensurepip without python3-venv.
        rm -rf "$venv"
        if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
            _st_log "python3 -m venv failed; installing python3-venv"
            apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
            "$python" -m venv "$venv" >&2 || _st_die "could not create the venv $venv"
        else
            _st_die "could not create the venv $venv (Debian: apt-get install python3-venv)"
        fi
    fi
    "$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 ||
        _st_die "pip could not install schemathesis==$SCHEMATHESIS_VERSION"
    "$venv/bin/st" --version >&2 || _st_die "schemathesis installed but 'st --version' fails"
    printf '%s\n' "$SCHEMATHESIS_VERSION" >"$stamp"
    exec {lock_fd}>&-
}

# Use local.sh's log/die when sourced from it, plain ones otherwise.
_st_log() {
    if declare -F log >/dev/null; then log "$@"; else printf '[schemathesis] %s\n' "$*" >&2; fi
}
_st_die() {
    if declare -F die >/dev/null; then die "$@"; fi
    printf '[schemathesis] ERROR: %s\n' "$*" >&2
    exit 1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    ensure_schemathesis
    printf '%s\n' "$(schemathesis_venv)/bin/st"
fi
