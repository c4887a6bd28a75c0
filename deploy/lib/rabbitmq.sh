# shellcheck shell=bash disable=SC2034  # variables are used by local.sh
# Local RabbitMQ for deploy/local.sh: a plain background process (no
# systemd) with its own node name, ports, data, cookie and its own epmd, so
# it never touches a system-wide RabbitMQ/Erlang setup.

RMQ_DIR=$LOCAL/rabbitmq
RMQ_HOME=$RMQ_DIR/home                  # holds the Erlang cookie
RMQ_PID_FILE=$RUN_DIR/rabbitmq.pid      # the beam.smp process
RMQ_OWN_PID_FILE=$RMQ_DIR/rabbitmq.pid  # written by rabbit, removed on clean stop
RMQ_LAUNCHER_PID_FILE=$RUN_DIR/rabbitmq-launcher.pid  # the rabbitmq-server sh
RMQ_PORTS_FILE=$RUN_DIR/rabbitmq.ports
EPMD_PID_FILE=$RUN_DIR/epmd.pid
RMQ_NODE=ratify@localhost

# A beam is ours if its command line carries our private HOME.
rmq_pid() { pid_alive "$RMQ_PID_FILE" "-home $RMQ_HOME "; }
epmd_pid() { pid_alive "$EPMD_PID_FILE" "epmd -port"; }

rmq_resolve_ports() {
    local running=0
    rmq_pid >/dev/null && running=1
    # One record file per port keeps resolve_port simple.
    AMQP_PORT=$(resolve_port RATIFY_AMQP_PORT 55672 "$RMQ_PORTS_FILE.amqp" "$running")
    RMQ_DIST_PORT=$(resolve_port RATIFY_AMQP_DIST_PORT $((AMQP_PORT + 1)) "$RMQ_PORTS_FILE.dist" "$running")
    EPMD_PORT=$(resolve_port RATIFY_EPMD_PORT 55669 "$RMQ_PORTS_FILE.epmd" "$running")
    RMQ_MGMT_PORT=$(resolve_port RATIFY_AMQP_MGMT_PORT 55680 "$RMQ_PORTS_FILE.mgmt" "$running")
    AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
}

rmq_write_conf() {
    local plugins='[].'
    cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Written by deploy/local.sh on every start; edit the script, not this file.
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
# guest/guest from loopback only is the default; make it explicit for any
# client that connects via another local address.
loopback_users = none
disk_free_limit.absolute = 200MB
vm_memory_high_watermark.relative = 0.4
EOF
    # The management UI costs CPU and ~4 s of boot, so it is opt-in.
    if [[ ${RATIFY_AMQP_MGMT:-0} == 1 ]]; then
        plugins='[rabbitmq_management].'
        printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' \
            "$RMQ_MGMT_PORT" >>"$RMQ_DIR/rabbitmq.conf"
    fi
    echo "$plugins" >"$RMQ_DIR/enabled_plugins"
    # Shadow /etc/rabbitmq/rabbitmq-env.conf so system edits cannot leak in.
    : >"$RMQ_DIR/rabbitmq-env.conf"
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

start_rabbitmq() {
    local pid launcher
    rmq_resolve_ports
    if pid=$(rmq_pid); then
        log "rabbitmq already running (pid $pid, port $AMQP_PORT), reusing it"
        return 0
    fi
    ensure_port_free "$AMQP_PORT" RATIFY_AMQP_PORT
    ensure_port_free "$RMQ_DIST_PORT" RATIFY_AMQP_DIST_PORT
    if [[ ${RATIFY_AMQP_MGMT:-0} == 1 ]]; then
        ensure_port_free "$RMQ_MGMT_PORT" RATIFY_AMQP_MGMT_PORT
    fi
    mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log" "$RMQ_HOME"
    rmq_write_conf
    start_epmd
    log "starting rabbitmq on 127.0.0.1:$AMQP_PORT (node $RMQ_NODE, epmd port $EPMD_PORT)"
    rm -f "$RMQ_OWN_PID_FILE"
    # RABBITMQ_CONFIG_FILE: 3.10 accepts the path with or without ".conf".
    # inet_dist_use_interface keeps the Erlang distribution port on loopback
    # (by default it listens on 0.0.0.0).
    spawn "$RMQ_LAUNCHER_PID_FILE" "$LOG_DIR/rabbitmq.out" env \
        HOME="$RMQ_HOME" \
        RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" \
        RABBITMQ_LOG_BASE="$RMQ_DIR/log" \
        RABBITMQ_PID_FILE="$RMQ_OWN_PID_FILE" \
        RABBITMQ_NODENAME="$RMQ_NODE" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$AMQP_PORT" \
        RABBITMQ_DIST_PORT="$RMQ_DIST_PORT" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
        ERL_EPMD_PORT="$EPMD_PORT" \
        ERL_CRASH_DUMP="$RMQ_DIR/log/erl_crash.dump" \
        /usr/lib/rabbitmq/bin/rabbitmq-server
    launcher=$(<"$RMQ_LAUNCHER_PID_FILE")
    # Ready = the AMQP listener accepts connections (opened late in boot).
    if ! wait_port "$AMQP_PORT" 60 "$launcher"; then
        log "rabbitmq did not open port $AMQP_PORT within 60 s; last log lines:"
        tail -n 20 "$LOG_DIR/rabbitmq.out" >&2 || true
        tail -n 20 "$RMQ_DIR/log/$RMQ_NODE.log" >&2 2>/dev/null || true
        stop_pid rabbitmq-server "$RMQ_LAUNCHER_PID_FILE" rabbitmq-server 10
        die "rabbitmq failed to start (logs: $LOG_DIR/rabbitmq.out, $RMQ_DIR/log)"
    fi
    # rabbitmq-server is a sh wrapper that forwards signals to the VM; record
    # the VM itself (rabbit writes its OS pid to RABBITMQ_PID_FILE) so that
    # `down` signals the beam process directly.
    cp "$RMQ_OWN_PID_FILE" "$RMQ_PID_FILE" 2>/dev/null || true
    pid=$(rmq_pid) || die "rabbitmq is up but its beam pid could not be verified ($RMQ_OWN_PID_FILE)"
    [[ $(proc_cmdline "$pid") == *beam* ]] || die "pid $pid is not a beam process"
    echo "$AMQP_PORT" >"$RMQ_PORTS_FILE.amqp"
    echo "$RMQ_DIST_PORT" >"$RMQ_PORTS_FILE.dist"
    echo "$EPMD_PORT" >"$RMQ_PORTS_FILE.epmd"
    echo "$RMQ_MGMT_PORT" >"$RMQ_PORTS_FILE.mgmt"
}

stop_rabbitmq() {
    # The beam shuts down gracefully on TERM (a few seconds); the sh launcher
    # exits by itself once the VM is gone.
    stop_pid rabbitmq "$RMQ_PID_FILE" "-home $RMQ_HOME " 60
    stop_pid rabbitmq-launcher "$RMQ_LAUNCHER_PID_FILE" rabbitmq-server 10
    stop_pid epmd "$EPMD_PID_FILE" "epmd -port" 10
    rm -f "$RMQ_PORTS_FILE".*
}
