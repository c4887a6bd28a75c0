# shellcheck shell=bash disable=SC2034  # variables are used by local.sh
# A streaming read replica of the local Postgres for deploy/local.sh (`--replica`): a base
# backup of the primary (pg_basebackup -R) in .local/pg-replica, run by the postgres user on
# 127.0.0.1:$PGR_PORT with its own socket folder, replaying the primary's WAL as it comes. The
# api reads job status, lists and transaction lookups from it (DATABASE_READ_URL; README,
# "Read replica"). Expects postgres.sh to be sourced first.

PGR_DIR=$LOCAL/pg-replica
PGR_DATA=$PGR_DIR/data
PGR_SOCK=$PGR_DIR/run
PGR_LOG=$LOG_DIR/postgres-replica.log
PGR_PORT_FILE=$RUN_DIR/postgres-replica.port
PGR_PID_FILE=$RUN_DIR/postgres-replica.pid
# Left in the primary's folder once a replica is asked for: from then on the primary writes
# the WAL a replica needs (postgres.sh reads it), also when started without --replica, so the
# replica can always follow it.
PG_REPLICATED=$PG_DIR/replicated

replica_pid() {
    pid_alive "$PGR_DATA/postmaster.pid" "-D $PGR_DATA "
}

# Sets PGR_PORT, REPLICA_URL (the ratify database) and TEST_REPLICA_URL (a superuser URL
# for the tests, like TEST_DATABASE_URL).
replica_resolve_port() {
    local running=0
    replica_pid >/dev/null && running=1
    PGR_PORT=$(resolve_port RATIFY_PG_REPLICA_PORT 55433 "$PGR_PORT_FILE" "$running")
    REPLICA_URL="postgres://postgres@127.0.0.1:$PGR_PORT/ratify"
    TEST_REPLICA_URL="postgres://postgres@127.0.0.1:$PGR_PORT/postgres"
}

# Before the primary starts: it will start replica-capable (no restart needed).
replica_prepare_primary() {
    install -d -m 700 -o postgres -g postgres "$PG_DIR"
    [[ -e $PG_REPLICATED ]] || touch "$PG_REPLICATED"
}

# The primary must run with wal_level = replica: a primary started with minimal WAL (the
# default, faster without replicas) is restarted once, which disconnects its clients.
replica_capable_primary() {
    [[ -e $PG_REPLICATED ]] || touch "$PG_REPLICATED"
    if [[ $(psql_q "SHOW wal_level") == minimal ]]; then
        log "restarting postgres with wal_level = replica, so a replica can follow it"
        stop_postgres
        start_postgres
    fi
    # initdb's pg_hba.conf already lets local replication connections in (trust); a cluster
    # made otherwise gets the line once.
    if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$PG_DATA/pg_hba.conf"; then
        echo "host replication all 127.0.0.1/32 trust" >>"$PG_DATA/pg_hba.conf"
        psql_q "SELECT pg_reload_conf()" >/dev/null
    fi
}

# The replica's own settings, after the primary's (copied fresh, so that max_connections and
# the like stay at least the primary's, as a standby requires).
replica_write_conf() {
    cp "$PG_DATA/ratify.conf" "$PGR_DATA/ratify.conf"
    cat >"$PGR_DATA/replica.conf" <<EOF
# Written by deploy/local.sh on every start of the replica; edit deploy/lib/replica.sh.
port = $PGR_PORT
unix_socket_directories = '$PGR_SOCK'
shared_buffers = 256MB
hot_standby = on
# Its reads are short polls: rather keep the rows they read on the primary a moment longer
# than have replay cancel them.
hot_standby_feedback = on
EOF
    chown postgres:postgres "$PGR_DATA/ratify.conf" "$PGR_DATA/replica.conf"
    grep -q "^include = 'replica.conf'" "$PGR_DATA/postgresql.conf" ||
        echo "include = 'replica.conf'" >>"$PGR_DATA/postgresql.conf"
}

# Starts (or reuses) the replica; the primary must be running. Sets DATABASE_READ_URL and
# TEST_DATABASE_READ_URL for print_exports.
start_replica() {
    local bin pid primary_id
    replica_capable_primary
    replica_resolve_port
    if pid=$(replica_pid); then
        log "postgres replica already running (pid $pid, port $PGR_PORT), reusing it"
    else
        ensure_port_free "$PGR_PORT" RATIFY_PG_REPLICA_PORT
        bin=$(pg_bin_dir) || die "postgres binaries not found under /usr/lib/postgresql"
        install -d -m 700 -o postgres -g postgres "$PGR_DIR" "$PGR_SOCK"
        # A replica of an earlier primary (its folder made anew) could never follow this one.
        primary_id=$(psql_q "SELECT system_identifier FROM pg_control_system()")
        if [[ -f $PGR_DATA/PG_VERSION && $(cat "$PGR_DIR/primary-id" 2>/dev/null) != "$primary_id" ]]; then
            log "the replica in $PGR_DATA is not of this primary; taking a new one"
            rm -rf "$PGR_DATA"
        fi
        if [[ ! -f $PGR_DATA/PG_VERSION ]]; then
            log "taking a base backup of the primary into $PGR_DATA"
            # Into a folder of its own first: a backup cut short never passes for a replica.
            rm -rf "$PGR_DIR/data.new"
            as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$PGR_DIR/data.new" \
                -R -X stream -c fast >>"$LOG_DIR/pg_basebackup.log" 2>&1 ||
                die "pg_basebackup failed, see $LOG_DIR/pg_basebackup.log"
            mv "$PGR_DIR/data.new" "$PGR_DATA"
            echo "$primary_id" >"$PGR_DIR/primary-id"
        fi
        replica_write_conf
        touch "$PGR_LOG" && chown postgres:postgres "$PGR_LOG"
        log "starting the postgres replica on 127.0.0.1:$PGR_PORT"
        as_pg setsid "$bin/pg_ctl" -D "$PGR_DATA" -l "$PGR_LOG" -w -t 120 start >&2 </dev/null || {
            tail -n 30 "$PGR_LOG" >&2
            die "the postgres replica did not start, see $PGR_LOG"
        }
        echo "$PGR_PORT" >"$PGR_PORT_FILE"
    fi
    replica_pid >"$PGR_PID_FILE" || die "the replica started but its pid file is not readable"
    DATABASE_READ_URL=$REPLICA_URL
    TEST_DATABASE_READ_URL=$TEST_REPLICA_URL
}

stop_replica() {
    local bin pid
    if ! pid=$(replica_pid); then
        rm -f "$PGR_PID_FILE"
        return 0
    fi
    bin=$(pg_bin_dir)
    log "stopping the postgres replica (pid $pid)"
    as_pg "$bin/pg_ctl" -D "$PGR_DATA" -m fast -w -t 60 stop >&2 || {
        log "pg_ctl stop failed; sending KILL to the replica's postmaster $pid"
        kill -KILL "$pid" 2>/dev/null || true
    }
    rm -f "$PGR_PID_FILE" "$PGR_PORT_FILE"
}
