# shellcheck shell=bash disable=SC2034  # variables are used by local.sh
# Local RabbitMQ for deploy/local.sh: plain background processes (no
# systemd), each with its own node name, ports, data and epmd-free
# distribution on loopback, so nothing touches a system-wide RabbitMQ/Erlang
# setup. One node by default; `--cluster` makes three, joined into one
# cluster (their quorum queues replicated on all three).
#
# Node 1 keeps the single node's names and folders, so a single node can
# later grow into a cluster. Node K (2, 3) lives in $LOCAL/rabbitmq-K.

RMQ_DIR=$LOCAL/rabbitmq
RMQ_HOME=$RMQ_DIR/home                  # node 1's HOME: holds the Erlang cookie
RMQ_PORTS_FILE=$RUN_DIR/rabbitmq.ports
RMQ_CLUSTER_FILE=$LOCAL/rabbitmq.cluster  # present once the nodes formed a cluster
RMQ_CLUSTER_SIZE=3
EPMD_PID_FILE=$RUN_DIR/epmd.pid
RMQ_NODE=ratify@localhost

# rmq_node K: sets N_* for node K (folders, pid files, node name, log).
rmq_node() {
    local k=$1
    if ((k == 1)); then
        N_DIR=$RMQ_DIR N_RUN=$RUN_DIR/rabbitmq N_NAME=$RMQ_NODE N_OUT=$LOG_DIR/rabbitmq.out
    else
        N_DIR=$LOCAL/rabbitmq-$k N_RUN=$RUN_DIR/rabbitmq-$k N_NAME=ratify-$k@localhost
        N_OUT=$LOG_DIR/rabbitmq-$k.out
    fi
    N_HOME=$N_DIR/home
    N_PID_FILE=$N_RUN.pid               # the beam.smp process
    N_OWN_PID_FILE=$N_DIR/rabbitmq.pid  # written by rabbit, removed on clean stop
    N_LAUNCHER_PID_FILE=$N_RUN-launcher.pid  # the rabbitmq-server sh
    N_AMQP=${RMQ_AMQP_PORTS[$k]:-} N_DIST=${RMQ_DIST_PORTS[$k]:-}
}

# A beam is node K's if its command line carries node K's private HOME.
rmq_node_pid() { rmq_node "$1" && pid_alive "$N_PID_FILE" "-home $N_HOME "; }
rmq_pid() { rmq_node_pid 1; }
epmd_pid() { pid_alive "$EPMD_PID_FILE" "epmd -port"; }
rmq_is_cluster() { [[ -e $RMQ_CLUSTER_FILE ]]; }

# Ports of every node; node K defaults to node 1's AMQP port + 10 (K-1) and the
# next one up for distribution (RATIFY_AMQP_PORT_K, RATIFY_AMQP_DIST_PORT_K).
rmq_resolve_ports() {
    local running=0 k var dvar
    rmq_pid >/dev/null && running=1
    # One record file per port keeps resolve_port simple.
    AMQP_PORT=$(resolve_port RATIFY_AMQP_PORT 55672 "$RMQ_PORTS_FILE.amqp" "$running")
    RMQ_DIST_PORT=$(resolve_port RATIFY_AMQP_DIST_PORT $((AMQP_PORT + 1)) "$RMQ_PORTS_FILE.dist" "$running")
    EPMD_PORT=$(resolve_port RATIFY_EPMD_PORT 55669 "$RMQ_PORTS_FILE.epmd" "$running")
    RMQ_MGMT_PORT=$(resolve_port RATIFY_AMQP_MGMT_PORT 55680 "$RMQ_PORTS_FILE.mgmt" "$running")
    RMQ_AMQP_PORTS=([1]="$AMQP_PORT") RMQ_DIST_PORTS=([1]="$RMQ_DIST_PORT")
    for ((k = 2; k <= RMQ_CLUSTER_SIZE; k++)); do
        running=0
        rmq_node_pid "$k" >/dev/null && running=1
        var=RATIFY_AMQP_PORT_$k dvar=RATIFY_AMQP_DIST_PORT_$k
        RMQ_AMQP_PORTS[k]=$(resolve_port "$var" $((AMQP_PORT + 10 * (k - 1))) "$RMQ_PORTS_FILE.amqp-$k" "$running")
        RMQ_DIST_PORTS[k]=$(resolve_port "$dvar" $((RMQ_AMQP_PORTS[k] + 1)) "$RMQ_PORTS_FILE.dist-$k" "$running")
    done
    AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
    AMQP_URLS=$AMQP_URL
    if rmq_is_cluster; then
        for ((k = 2; k <= RMQ_CLUSTER_SIZE; k++)); do
            AMQP_URLS+=",amqp://guest:guest@127.0.0.1:${RMQ_AMQP_PORTS[k]}/%2f"
        done
    fi
}

# rmq_write_conf K: node K's rabbitmq.conf, plugins and env file.
rmq_write_conf() {
    local k=$1 plugins='[].'
    rmq_node "$k"
    cat >"$N_DIR/rabbitmq.conf" <<EOF
# Written by deploy/local.sh on every start; edit the script, not this file.
listeners.tcp.default = 127.0.0.1:$N_AMQP
# guest/guest from loopback only is the default; make it explicit for any
# client that connects via another local address.
loopback_users = none
disk_free_limit.absolute = 200MB
vm_memory_high_watermark.relative = 0.4
EOF
    # The management UI costs CPU and ~4 s of boot, so it is opt-in (node 1 only:
    # it shows the whole cluster).
    if [[ ${RATIFY_AMQP_MGMT:-0} == 1 ]] && ((k == 1)); then
        plugins='[rabbitmq_management].'
        printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' \
            "$RMQ_MGMT_PORT" >>"$N_DIR/rabbitmq.conf"
    fi
    echo "$plugins" >"$N_DIR/enabled_plugins"
    # Shadow /etc/rabbitmq/rabbitmq-env.conf so system edits cannot leak in.
    : >"$N_DIR/rabbitmq-env.conf"
}

# Our own epmd on a private port: started in the foreground (so the pid we
# record is the real one), bound to loopback. Never the system epmd (4369).
start_epmd() {
    local pid
    if pid=$(epmd_pid); then
        if [[ $(proc_cmdline "$pid") == *"-port $EPMD_PORT "* ]]; then return 0; fi
        stop_pid epmd "$EPMD_PID_FILE" "epmd -port" 5
    fi
    ensure_port_free "$EPMD_PORT" RATIFY_EPMD_PORT
    spawn "$EPMD_PID_FILE" "$LOG_DIR/epmd.log" epmd -port "$EPMD_PORT" -address 127.0.0.1
    wait_port "$EPMD_PORT" 10 "$(<"$EPMD_PID_FILE")" || die "epmd did not start, see $LOG_DIR/epmd.log"
}

# The nodes of a cluster share one Erlang cookie: node 1's, made here if no
# node has started yet.
rmq_share_cookie() {
    local k=$1 cookie=$RMQ_HOME/.erlang.cookie
    mkdir -p "$RMQ_HOME"
    if [[ ! -s $cookie ]]; then
        (umask 077 && head -c 64 /dev/urandom | tr -dc 'A-Z' | head -c 20 >"$cookie")
        chmod 400 "$cookie"
    fi
    ((k == 1)) && return 0
    rmq_node "$k"
    mkdir -p "$N_HOME"
    if ! cmp -s "$cookie" "$N_HOME/.erlang.cookie"; then
        rm -f "$N_HOME/.erlang.cookie"
        install -m 400 "$cookie" "$N_HOME/.erlang.cookie"
    fi
}

# rmq_spawn K: starts node K's VM in the background (not waiting for it).
rmq_spawn() {
    local k=$1
    local suffix=_$k
    ((k == 1)) && suffix=""
    rmq_node "$k"
    ensure_port_free "$N_AMQP" "RATIFY_AMQP_PORT$suffix"
    ensure_port_free "$N_DIST" "RATIFY_AMQP_DIST_PORT$suffix"
    if [[ ${RATIFY_AMQP_MGMT:-0} == 1 ]] && ((k == 1)); then
        ensure_port_free "$RMQ_MGMT_PORT" RATIFY_AMQP_MGMT_PORT
    fi
    mkdir -p "$N_DIR/mnesia" "$N_DIR/log" "$N_HOME"
    rmq_write_conf "$k"
    log "starting rabbitmq on 127.0.0.1:$N_AMQP (node $N_NAME, epmd port $EPMD_PORT)"
    rm -f "$N_OWN_PID_FILE"
    # RABBITMQ_CONFIG_FILE: 3.10 accepts the path with or without ".conf".
    # inet_dist_use_interface keeps the Erlang distribution port on loopback
    # (by default it listens on 0.0.0.0). Run from the node's folder: Mnesia
    # writes its crash dumps (MnesiaCore.*) to the working directory.
    cd "$N_DIR" || die "cannot enter $N_DIR"
    spawn "$N_LAUNCHER_PID_FILE" "$N_OUT" env \
        HOME="$N_HOME" \
        RABBITMQ_CONF_ENV_FILE="$N_DIR/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$N_DIR/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$N_DIR/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$N_DIR/mnesia" \
        RABBITMQ_LOG_BASE="$N_DIR/log" \
        RABBITMQ_PID_FILE="$N_OWN_PID_FILE" \
        RABBITMQ_NODENAME="$N_NAME" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$N_AMQP" \
        RABBITMQ_DIST_PORT="$N_DIST" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
        ERL_EPMD_PORT="$EPMD_PORT" \
        ERL_CRASH_DUMP="$N_DIR/log/erl_crash.dump" \
        /usr/lib/rabbitmq/bin/rabbitmq-server
    cd - >/dev/null || true
}

# rmq_await K: waits until node K's AMQP listener accepts connections (opened
# late in boot) and records its beam pid and ports.
rmq_await() {
    local k=$1 launcher pid
    rmq_node "$k"
    launcher=$(<"$N_LAUNCHER_PID_FILE")
    # A restarted cluster node waits for its peers before it opens AMQP: allow for that.
    if ! wait_port "$N_AMQP" 120 "$launcher"; then
        log "rabbitmq node $N_NAME did not open port $N_AMQP within 120 s; last log lines:"
        tail -n 20 "$N_OUT" >&2 || true
        tail -n 20 "$N_DIR/log/$N_NAME.log" >&2 2>/dev/null || true
        stop_pid rabbitmq-server "$N_LAUNCHER_PID_FILE" rabbitmq-server 10
        die "rabbitmq failed to start (logs: $N_OUT, $N_DIR/log)"
    fi
    # rabbitmq-server is a sh wrapper that forwards signals to the VM; record
    # the VM itself (rabbit writes its OS pid to RABBITMQ_PID_FILE) so that
    # `down` signals the beam process directly.
    cp "$N_OWN_PID_FILE" "$N_PID_FILE" 2>/dev/null || true
    pid=$(rmq_node_pid "$k") || die "rabbitmq is up but its beam pid could not be verified ($N_OWN_PID_FILE)"
    [[ $(proc_cmdline "$pid") == *beam* ]] || die "pid $pid is not a beam process"
    if ((k == 1)); then
        echo "$AMQP_PORT" >"$RMQ_PORTS_FILE.amqp"
        echo "$RMQ_DIST_PORT" >"$RMQ_PORTS_FILE.dist"
        echo "$EPMD_PORT" >"$RMQ_PORTS_FILE.epmd"
        echo "$RMQ_MGMT_PORT" >"$RMQ_PORTS_FILE.mgmt"
    else
        echo "$N_AMQP" >"$RMQ_PORTS_FILE.amqp-$k"
        echo "$N_DIST" >"$RMQ_PORTS_FILE.dist-$k"
    fi
}

# rmq_ctl K TOOL ARGS...: a RabbitMQ CLI tool (rabbitmqctl, rabbitmq-queues, …)
# against node K, with the cluster's cookie and our epmd.
rmq_ctl() {
    local k=$1 tool=$2
    shift 2
    rmq_node "$k"
    env HOME="$N_HOME" RABBITMQ_CONF_ENV_FILE="$N_DIR/rabbitmq-env.conf" ERL_EPMD_PORT="$EPMD_PORT" \
        "/usr/lib/rabbitmq/bin/$tool" -n "$N_NAME" "$@"
}

# Joins a fresh node K to node 1's cluster and adds it to every existing quorum
# queue (queues declared while it was away would otherwise not grow onto it).
rmq_join() {
    local k=$1
    rmq_node "$k"
    [[ -e $N_DIR/joined ]] && return 0
    log "joining $N_NAME to the cluster of $RMQ_NODE"
    {
        rmq_ctl "$k" rabbitmqctl stop_app &&
            rmq_ctl "$k" rabbitmqctl join_cluster "$RMQ_NODE" &&
            rmq_ctl "$k" rabbitmqctl start_app &&
            rmq_ctl 1 rabbitmq-queues grow "$N_NAME" all
    } >>"$N_OUT" 2>&1 || die "could not join $N_NAME to the cluster; see $N_OUT"
    touch "$N_DIR/joined"
}

# start_rabbitmq [--cluster] [--node K]: starts what is not running. Once the
# nodes are a cluster, every start starts them all: a lone clustered node
# waits for its peers before it serves.
start_rabbitmq() {
    local cluster=0 only="" k pid
    while (($#)); do
        case $1 in
            --cluster) cluster=1 ;;
            --node) only=${2:-}; shift ;;
            *) die "start-rabbitmq: unknown argument '$1'" ;;
        esac
        shift
    done
    rmq_is_cluster && cluster=1
    rmq_resolve_ports
    local -a nodes=(1) started=()
    ((cluster)) && nodes=(1 2 3)
    [[ -n $only ]] && nodes=("$only")
    for k in "${nodes[@]}"; do
        [[ $k =~ ^[1-3]$ ]] || die "--node must be 1, 2 or 3, got '$k'"
        ((k == 1 || cluster)) || die "node $k exists only in a cluster (start it with --cluster)"
    done
    start_epmd
    for k in "${nodes[@]}"; do
        if pid=$(rmq_node_pid "$k"); then
            log "rabbitmq node $N_NAME already running (pid $pid, port $N_AMQP), reusing it"
            continue
        fi
        ((cluster)) && rmq_share_cookie "$k"
        rmq_spawn "$k"
        started+=("$k")
    done
    # Started together: restarted cluster nodes wait for each other.
    for k in "${started[@]}"; do rmq_await "$k"; done
    if ((cluster)); then
        for k in "${nodes[@]}"; do ((k == 1)) || rmq_join "$k"; done
        touch "$RMQ_CLUSTER_FILE"
        rmq_resolve_ports
    fi
}

# stop_rabbitmq [--node K]: stops node K, or every node (node 1 last).
stop_rabbitmq() {
    local only="" k
    if [[ ${1:-} == --node ]]; then
        only=${2:-}
        [[ $only =~ ^[1-3]$ ]] || die "--node must be 1, 2 or 3, got '$only'"
    fi
    local -a nodes=(3 2 1)
    [[ -n $only ]] && nodes=("$only")
    for k in "${nodes[@]}"; do
        rmq_node "$k"
        # The beam shuts down gracefully on TERM (a few seconds); the sh launcher
        # exits by itself once the VM is gone.
        stop_pid "rabbitmq node $N_NAME" "$N_PID_FILE" "-home $N_HOME " 60
        stop_pid rabbitmq-launcher "$N_LAUNCHER_PID_FILE" rabbitmq-server 10
        if ((k == 1)); then rm -f "$RMQ_PORTS_FILE".amqp "$RMQ_PORTS_FILE".dist; else rm -f "$RMQ_PORTS_FILE".*-"$k"; fi
    done
    if [[ -z $only ]]; then
        stop_pid epmd "$EPMD_PID_FILE" "epmd -port" 10
        rm -f "$RMQ_PORTS_FILE".*
    fi
}

# rabbitmqctl [--node K] ARGS: RabbitMQ's CLI against node K (default 1), with our
# cookie and epmd.
cmd_rabbitmqctl() {
    local k=1
    if [[ ${1:-} == --node ]]; then k=${2:-}; shift 2 || die "--node needs a number"; fi
    [[ $k =~ ^[1-3]$ ]] || die "--node must be 1, 2 or 3, got '$k'"
    rmq_resolve_ports
    rmq_node_pid "$k" >/dev/null || die "rabbitmq node $k is not running"
    rmq_ctl "$k" rabbitmqctl "$@"
}

# The node (1, 2 or 3) that leads quorum queue $1 of the default vhost.
cmd_rabbitmq_leader() {
    local queue=${1:-} leader k
    [[ -n $queue ]] || die "rabbitmq-leader: name a queue"
    rmq_resolve_ports
    for k in 1 2 3; do
        rmq_node_pid "$k" >/dev/null || continue
        leader=$(rmq_ctl "$k" rabbitmqctl list_queues -q --no-table-headers name leader 2>/dev/null |
            awk -v q="$queue" '$1 == q {print $2}') || continue
        [[ -n $leader ]] && break
    done
    [[ -n ${leader:-} ]] || die "no running node knows queue '$queue' and its leader"
    case $leader in
        "$RMQ_NODE") echo 1 ;;
        ratify-2@localhost) echo 2 ;;
        ratify-3@localhost) echo 3 ;;
        *) die "queue '$queue' is led by $leader, not one of our nodes" ;;
    esac
}
