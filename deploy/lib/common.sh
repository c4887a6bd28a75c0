# shellcheck shell=bash
# Shared helpers for deploy/local.sh: logging, PID files, ports, packages.
# Sourced, never executed. Expects ROOT, LOCAL, RUN_DIR, LOG_DIR to be set.

log() { printf '[local] %s\n' "$*" >&2; }
die() { printf '[local] ERROR: %s\n' "$*" >&2; exit 1; }

# Command line of a pid as one space-separated string (empty if gone).
proc_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# pid_running PID: alive and not a zombie (our daemons are reparented to
# PID 1, which may reap late; kill -0 alone would call a zombie alive).
pid_running() {
    kill -0 "$1" 2>/dev/null || return 1
    [[ $(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) != Z ]]
}

# pid_alive PIDFILE PATTERN: print the pid and succeed if the pid in PIDFILE
# is alive AND its command line contains PATTERN. The pattern guards against
# a recycled pid: we only ever signal processes that are provably ours.
pid_alive() {
    local file=$1 pattern=$2 pid
    [[ -f $file ]] || return 1
    pid=$(head -n1 "$file" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_running "$pid" || return 1
    [[ $(proc_cmdline "$pid") == *"$pattern"* ]] || return 1
    printf '%s\n' "$pid"
}

# spawn PIDFILE LOGFILE CMD...: run CMD detached (own session, stdin from
# /dev/null, output to LOGFILE) and record its pid. The child writes its own
# pid ($$) right before exec'ing CMD, so the pid file names the real process
# even when setsid has to fork (i.e. when we are a process-group leader).
spawn() {
    local pidfile=$1 logfile=$2; shift 2
    rm -f "$pidfile"
    # shellcheck disable=SC2016  # $$ and $@ expand in the child, on purpose
    setsid nohup bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
        "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.05
    done
    die "could not start $1 (no pid file $pidfile); see $logfile"
}

# stop_pid NAME PIDFILE PATTERN [TIMEOUT]: TERM, wait up to TIMEOUT s, KILL.
stop_pid() {
    local name=$1 file=$2 pattern=$3 timeout=${4:-30} pid deadline
    if ! pid=$(pid_alive "$file" "$pattern"); then
        rm -f "$file"
        return 0
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + timeout))
    while pid_running "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if pid_running "$pid"; then
        log "$name did not stop within ${timeout}s, sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$file"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_pids PORT: pids of processes listening on PORT (any address).
port_pids() {
    { ss -ltnpH "sport = :$1" 2>/dev/null || true; } | { grep -o 'pid=[0-9]*' || true; } |
        cut -d= -f2 | sort -u
}

# ensure_port_free PORT VARNAME: fail clearly if a foreign process has it.
ensure_port_free() {
    local port=$1 var=$2 pids pid who=""
    pids=$(port_pids "$port")
    if [[ -z $pids ]] && ! port_open "$port"; then return 0; fi
    for pid in $pids; do who+=" pid $pid ($(proc_cmdline "$pid" | cut -c1-80))"; done
    die "port $port is already in use by a process we did not start:${who:- unknown}." \
        "Set $var to a free port (or stop that process yourself)."
}

# wait_port PORT TIMEOUT PID: wait until PORT accepts connections; fail early
# if PID (the process that should open it) dies.
wait_port() {
    local port=$1 timeout=$2 pid=$3 deadline=$((SECONDS + $2))
    until port_open "$port"; do
        pid_running "$pid" || return 1
        ((SECONDS < deadline)) || return 1
        sleep 0.25
    done
}

# resolve_port VARNAME DEFAULT RECORDFILE RUNNING: the port to use. A running
# server keeps the port it was started with (recorded in RECORDFILE); asking
# for a different one via VARNAME is an error rather than a silent surprise.
resolve_port() {
    local var=$1 def=$2 record=$3 running=$4 want=${!1:-} have=""
    [[ -f $record ]] && have=$(<"$record")
    if [[ $running == 1 && -n $have ]]; then
        if [[ -n $want && $want != "$have" ]]; then
            die "$var=$want but the running server uses port $have; run 'deploy/local.sh down' first."
        fi
        printf '%s\n' "$have"
    else
        want=${want:-$def}
        [[ $want =~ ^[0-9]+$ ]] || die "$var must be a port number, got '$want'"
        printf '%s\n' "$want"
    fi
}

# ensure_packages: install postgresql / rabbitmq-server / curl / iproute2 (and,
# for `test`, docker-compose) on a fresh Debian box; apt-get update runs at most
# once, only if needed.
pg_bin_dir() {
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)
    [[ -x $d ]] && dirname "$d"
}
ensure_packages() {
    local missing=() bare=()
    pg_bin_dir >/dev/null || missing+=(postgresql)
    [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || missing+=(rabbitmq-server)
    command -v curl >/dev/null || missing+=(curl)
    command -v ss >/dev/null || missing+=(iproute2)
    # `test` also validates deploy/docker-compose.yml (tests/tests/e2e/compose/) with
    # docker-compose. It goes in without its recommends, which would bring the Docker
    # engine: validating the file needs no engine.
    if [[ " ${FUNCNAME[*]} " == *" cmd_test "* ]] && ! command -v docker-compose >/dev/null &&
        ! docker compose version >/dev/null 2>&1; then
        bare+=(docker-compose)
    fi
    ((${#missing[@]} + ${#bare[@]} == 0)) && return 0
    local all=("${missing[@]}" "${bare[@]}")
    [[ $EUID -eq 0 ]] || die "missing packages (${all[*]}); run this script as root to install them"
    log "installing ${all[*]} (first run on this machine)"
    apt-get update -qq >&2
    if ((${#missing[@]})); then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    fi
    if ((${#bare[@]})); then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${bare[@]}" >&2
    fi
    # The Debian packages start system-wide services where systemd/init
    # scripts exist; we do not use those, ours run from .local on own ports.
}

# ensure_postgres_can_reach DIR: initdb/postgres run as the postgres user and
# must traverse every ancestor of DIR. CI clones into a 0700 mktemp dir, so
# grant search permission (o+x, not read) where it is missing, top-down.
ensure_postgres_can_reach() {
    local target=$1 d chain=() fixed=() i
    runuser -u postgres -- test -x "$target" && return 0
    d=$target
    while :; do
        chain+=("$d")
        [[ $d == / ]] && break
        d=$(dirname "$d")
    done
    for ((i = ${#chain[@]} - 1; i >= 0; i--)); do
        d=${chain[i]}
        if ! runuser -u postgres -- test -x "$d"; then
            chmod o+x "$d"
            fixed+=("$d")
        fi
    done
    log "added o+x (search only) to ${fixed[*]} so the postgres user can reach $target"
}

# check_disk: the full test run needs about 12 GiB (the debug target directory ~8, the
# Schemathesis venv, the compose images and the servers' data). Say so up front, with
# what is free, instead of failing later inside pip, the linker or dockerd.
check_disk() {
    local need_kib=$((12 * 1024 * 1024)) free_kib
    free_kib=$(df -Pk "$ROOT" | awk 'NR == 2 {print $4}')
    [[ $free_kib =~ ^[0-9]+$ ]] || return 0
    if ((free_kib < need_kib)); then
        log "WARNING: $((free_kib / 1024)) MiB free on $(df -P "$ROOT" | awk 'NR == 2 {print $6}'); the full test run needs about 12 GiB and may fail on a full disk"
    fi
}
