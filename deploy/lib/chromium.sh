# shellcheck shell=bash disable=SC2034  # variables are used by local.sh
# Headless Chromium and its chromedriver for the browser tests (tests/src/browser.rs),
# from Debian's own packages `chromium` and `chromium-driver`. They are the only source:
# nothing here (and no test tool) downloads a browser build of its own, since the Debian
# pair is the one a developer's box, CI and a fresh machine can all install, and its
# chromedriver always matches its chromium.
#
# Sourced after common.sh (log, die). `ensure_chromium` installs what is missing and
# sets RATIFY_CHROMIUM / RATIFY_CHROMEDRIVER; `chromium_paths` only looks.
# Environment: RATIFY_CHROMIUM, RATIFY_CHROMEDRIVER: use these binaries instead of the
# ones on PATH (then nothing is installed).

# chromium_paths: set RATIFY_CHROMIUM and RATIFY_CHROMEDRIVER to the binaries' absolute
# paths; fail (setting nothing new) if either is not there. Installs nothing.
chromium_paths() {
    local browser=${RATIFY_CHROMIUM:-} driver=${RATIFY_CHROMEDRIVER:-}
    # An explicit path is taken as given; otherwise Debian's, found on PATH.
    [[ -n $browser ]] || browser=$(command -v chromium) || return 1
    [[ -n $driver ]] || driver=$(command -v chromedriver) || return 1
    [[ -x $browser && -x $driver ]] || return 1
    RATIFY_CHROMIUM=$browser
    RATIFY_CHROMEDRIVER=$driver
}

# ensure_chromium: chromium and chromedriver are installed; exports RATIFY_CHROMIUM and
# RATIFY_CHROMEDRIVER. apt-get update runs at most once, and only when something is missing.
ensure_chromium() {
    local lock_fd
    if ! chromium_paths; then
        # A path the caller gave that is not there is a mistake, not a reason to install.
        [[ -z ${RATIFY_CHROMIUM:-} || -x ${RATIFY_CHROMIUM:-} ]] ||
            die "RATIFY_CHROMIUM=$RATIFY_CHROMIUM is not an executable"
        [[ -z ${RATIFY_CHROMEDRIVER:-} || -x ${RATIFY_CHROMEDRIVER:-} ]] ||
            die "RATIFY_CHROMEDRIVER=$RATIFY_CHROMEDRIVER is not an executable"
        [[ $EUID -eq 0 ]] || die "chromium or chromedriver is missing; run this script as root to install them"
        # One installer at a time: two test runs may start together, and apt holds its own
        # lock only for the length of one command. The second finds the work done.
        exec {lock_fd}>"${TMPDIR:-/tmp}/ratify-chromium-install.lock"
        flock "$lock_fd"
        if ! chromium_paths; then
            log "installing chromium chromium-driver (first browser test run on this machine)"
            apt-get update -qq >&2
            # DPkg::Lock::Timeout: wait for another apt/dpkg instead of failing at once.
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
                chromium chromium-driver >&2 || die "apt-get could not install chromium chromium-driver"
            chromium_paths || die "chromium-driver installed, but chromium or chromedriver is still not on PATH"
        fi
        exec {lock_fd}>&-
        # A broken install (missing shared libraries) shows here, not in the middle of a test.
        log "using $("$RATIFY_CHROMIUM" --version 2>/dev/null || echo "an unrunnable $RATIFY_CHROMIUM")" \
            "and $("$RATIFY_CHROMEDRIVER" --version 2>/dev/null | cut -d' ' -f1-2 || true)"
    fi
    export RATIFY_CHROMIUM RATIFY_CHROMEDRIVER
}
