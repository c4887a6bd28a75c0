# shellcheck shell=bash disable=SC2034  # variables are used by local.sh
# Local Postgres for deploy/local.sh: a private cluster in .local/pg, owned
# and run by the postgres user (initdb/pg_ctl refuse to run as root),
# listening on 127.0.0.1:$PG_PORT only, trust auth (dev/bench box).

PG_DIR=$LOCAL/pg
PG_DATA=$PG_DIR/data
PG_SOCK=$PG_DIR/run
PG_LOG=$LOG_DIR/postgres.log
PG_PORT_FILE=$RUN_DIR/postgres.port
PG_PID_FILE=$RUN_DIR/postgres.pid   # copy of postmaster.pid's first line
PG_STOP_MODE=fast                   # pg_ctl stop mode; stop-postgres --immediate sets immediate

as_pg() { runuser -u postgres -- "$@"; }

# The postmaster's own pid file is the source of truth; the process must be a
# postgres whose command line names our data folder.
pg_pid() {
    pid_alive "$PG_DATA/postmaster.pid" "-D $PG_DATA "
}

pg_resolve_port() {
    local running=0
    pg_pid >/dev/null && running=1
    PG_PORT=$(resolve_port RATIFY_PG_PORT 55432 "$PG_PORT_FILE" "$running")
    DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/ratify"
    TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

# Settings are regenerated on every start so edits here take effect; the
# cluster's postgresql.conf just includes this file.
pg_write_conf() {
    local wal_level=minimal wal_senders=0 wal_keep=0
    [[ -e $PG_DIR/replicated ]] && wal_level=replica wal_senders=5 wal_keep=1GB
    cat >"$PG_DATA/ratify.conf" <<EOF
# Written by deploy/local.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 300
shared_buffers = 1GB
# Durability stays on: benchmarks must measure real commits.
fsync = on
synchronous_commit = on
full_page_writes = on
# Without a replica, skip WAL that only one would need; once one was asked for
# (deploy/lib/replica.sh), write it, and keep some for a replica that was stopped.
wal_level = $wal_level
max_wal_senders = $wal_senders
wal_keep_size = $wal_keep
max_wal_size = 4GB
checkpoint_timeout = 15min
# The sharding-key check (deploy/local.sh test) reads every statement the
# suite sent from pg_stat_statements; each test has its own database, so the
# table must hold ~240 databases x ~100 statements.
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.max = 50000
pg_stat_statements.track = all
EOF
    chown postgres:postgres "$PG_DATA/ratify.conf"
    grep -q "^include = 'ratify.conf'" "$PG_DATA/postgresql.conf" ||
        echo "include = 'ratify.conf'" >>"$PG_DATA/postgresql.conf"
}

start_postgres() {
    local bin pid
    pg_resolve_port
    if pid=$(pg_pid); then
        log "postgres already running (pid $pid, port $PG_PORT), reusing it"
    else
        ensure_port_free "$PG_PORT" RATIFY_PG_PORT
        bin=$(pg_bin_dir) || die "postgres binaries not found under /usr/lib/postgresql"
        install -d -m 700 -o postgres -g postgres "$PG_DIR" "$PG_SOCK"
        ensure_postgres_can_reach "$PG_DIR"
        if [[ ! -f $PG_DATA/PG_VERSION ]]; then
            log "initializing a new cluster in $PG_DATA"
            install -d -m 700 -o postgres -g postgres "$PG_DATA"
            as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust \
                --encoding=UTF8 --locale=C.UTF-8 >>"$LOG_DIR/initdb.log" 2>&1 ||
                die "initdb failed, see $LOG_DIR/initdb.log"
        fi
        pg_write_conf
        touch "$PG_LOG" && chown postgres:postgres "$PG_LOG"
        log "starting postgres on 127.0.0.1:$PG_PORT"
        # setsid: the postmaster must not belong to our terminal/session.
        as_pg setsid "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >&2 </dev/null || {
            tail -n 30 "$PG_LOG" >&2
            die "postgres did not start, see $PG_LOG"
        }
        echo "$PG_PORT" >"$PG_PORT_FILE"
    fi
    pg_pid >"$PG_PID_FILE" || die "postgres started but its pid file is not readable"
    if [[ -z $(psql_q "SELECT 1 FROM pg_database WHERE datname = 'ratify'") ]]; then
        log "creating database ratify"
        psql_q "CREATE DATABASE ratify" >/dev/null
    fi
    # The view the sharding-key check reads (the library is preloaded above).
    if [[ -z $(psql_q "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'") ]]; then
        psql_q "CREATE EXTENSION pg_stat_statements" >/dev/null
    fi
}

psql_q() {
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "$1"
}

stop_postgres() {
    local bin pid
    if ! pid=$(pg_pid); then
        rm -f "$PG_PID_FILE"
        return 0
    fi
    bin=$(pg_bin_dir)
    log "stopping postgres (pid $pid)"
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -m "$PG_STOP_MODE" -w -t 60 stop >&2 || {
        log "pg_ctl stop failed; sending KILL to postmaster $pid"
        kill -KILL "$pid" 2>/dev/null || true
    }
    rm -f "$PG_PID_FILE" "$PG_PORT_FILE"
}
