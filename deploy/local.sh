#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local Ratify stack without Docker/systemd: Postgres + RabbitMQ as private
# processes under .local/, plus the api and workers. Run `deploy/local.sh help`.
#
# Every process we start is recorded in .local/run/*.pid and only ever
# stopped by that pid (after checking its command line), never by name.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
LOCAL=${RATIFY_LOCAL_DIR:-$ROOT/.local}
RUN_DIR=$LOCAL/run
LOG_DIR=$LOCAL/logs
TOKEN_FILE=$LOCAL/admin-token
API_PID_FILE=$RUN_DIR/api.pid
API_ADDR_FILE=$RUN_DIR/api.addr

# shellcheck source=lib/common.sh
. "$ROOT/deploy/lib/common.sh"
# shellcheck source=lib/postgres.sh
. "$ROOT/deploy/lib/postgres.sh"
# shellcheck source=lib/replica.sh
. "$ROOT/deploy/lib/replica.sh"
# shellcheck source=lib/rabbitmq.sh
. "$ROOT/deploy/lib/rabbitmq.sh"
# shellcheck source=lib/schemathesis.sh
. "$ROOT/deploy/lib/schemathesis.sh"
# shellcheck source=lib/chromium.sh
. "$ROOT/deploy/lib/chromium.sh"
# shellcheck source=lib/docker.sh
. "$ROOT/deploy/lib/docker.sh"

usage() {
    cat <<EOF
Usage: deploy/local.sh COMMAND [ARGS]

Commands:
  servers [--cluster] start (or reuse) Postgres and RabbitMQ, print env exports; --cluster: three
                      RabbitMQ nodes joined in one cluster (once a cluster, always started as one;
                      AMQP_URLS lists every node)
  up [--workers N] [--cluster]
                      servers + release build + migrate + api + N workers (default 2)
  servers/up --replica
                      also a streaming read replica of Postgres (pg_basebackup -R, its own port),
                      which the api reads polls and lookups from (DATABASE_READ_URL); the primary
                      is restarted once with wal_level = replica if it runs without
  down                stop everything this script started (api, workers, RabbitMQ, epmd, Postgres
                      and its read replica, a dockerd of the compose test)
  test [ARGS...]      servers + Schemathesis venv + Chromium + debug build + cargo nextest (or cargo test);
                      ARGS go to the runner; without ARGS also the sharding-key check on every
                      statement the suite sent (docs/scaling.md), a quick benchmark smoke run
                      (figures printed, not asserted) and a 1-minute soak (asserted)
  compose-test [--debug]
                      Docker (installed and started if missing) + images made without a
                      registry + deploy/docker-compose.yml with 4 workers: a 100,000-item
                      job, a worker killed and the workers scaled to 1 mid-job; then with
                      deploy/docker-compose.cluster.yml: the RabbitMQ node leading the chunk
                      queue killed mid-job, reads from the replica (docs/compose.md);
                      --debug: images of the debug build (as `test` runs it)
  schemathesis        install (or reuse) the pinned Schemathesis in .local/venv-schemathesis
  bench [--quick]     servers + release build + the benchmark harness (docs/api.md §7), prints a table
  bench --replica     the same with the read replica: each B2 run once more with the api reading
                      from it, B4 printed for both ("B4" and "B4 (replica)")
  soak [MINUTES]      servers + release build + the soak (B6) for MINUTES [5]: 8 clients, a worker
                      killed every 30 s, the chunk queues purged once; fails on any violation
  fuzz [SECONDS] [TARGET...]
                      run the cargo-fuzz targets in fuzz/ (all by default) for SECONDS each
                      [60]; on a crash prints the input's path and exits non-zero (docs/fuzzing.md)
  env                 print export lines for the running servers (eval "\$(deploy/local.sh env)")
  status              show which of our processes are alive
  stop-postgres [--immediate]
                      stop only Postgres (--immediate: no shutdown checkpoint, as after a crash)
  start-postgres      start (or reuse) only Postgres
  stop-replica        stop only the read replica
  start-replica       start (or reuse) the read replica (and make the primary replica-capable)
  stop-rabbitmq [--node K]
                      stop only RabbitMQ (and its epmd), or only its node K (1-3) of a cluster
  start-rabbitmq [--node K]
                      start (or reuse) only RabbitMQ, or only its node K of a cluster
  rabbitmq-leader QUEUE
                      print the node (1-3) leading quorum queue QUEUE
  rabbitmqctl [--node K] ARGS
                      RabbitMQ's rabbitmqctl against node K [1] of ours
  help                this text

Environment (defaults in brackets):
  RATIFY_PG_PORT [55432]         Postgres port (127.0.0.1 only)
  RATIFY_PG_REPLICA_PORT [55433] the read replica's port (127.0.0.1 only)
  RATIFY_AMQP_PORT [55672]       RabbitMQ AMQP port (127.0.0.1 only)
  RATIFY_AMQP_DIST_PORT [AMQP+1] RabbitMQ Erlang distribution port
  RATIFY_AMQP_PORT_K, RATIFY_AMQP_DIST_PORT_K [AMQP+10(K-1), that+1]
                                 ports of cluster node K (2, 3)
  RATIFY_EPMD_PORT [55669]       our private epmd
  RATIFY_AMQP_MGMT=1             enable the management UI on RATIFY_AMQP_MGMT_PORT [55680]
  API_ADDR [127.0.0.1:8080]      api listen address (up)
  ADMIN_TOKEN                    admin token (default: .local/admin-token, generated once)
  RATIFY_COMPOSE_API_PORT [58080], RATIFY_COMPOSE_UI_PORT [58081]
                                 compose-test: the api and management UI ports it publishes
  RATIFY_NO_BUILD=1              up: skip 'cargo build', use the binaries already built
  RATIFY_CHROMIUM, RATIFY_CHROMEDRIVER
                                 test: the browser and driver the browser tests use
                                 [Debian's chromium and chromedriver, installed if missing]
  RATIFY_SCREENSHOT_DIR [target/screenshots]
                                 test: where browser tests save their screenshots
  FUZZ_SANITIZER [none]          fuzz: cargo fuzz --sanitizer (none, address, ...)
  FUZZ_TOOLCHAIN=bootstrap       fuzz: use the default toolchain with RUSTC_BOOTSTRAP=1 even if
                                 a nightly is installed (default: nightly if there is one)
Exports go to stdout, progress messages to stderr. State lives in $LOCAL.
EOF
}

prepare_dirs() {
    [[ $EUID -eq 0 ]] || die "run as root (postgres is managed through runuser)"
    install -d -m 755 "$LOCAL" "$RUN_DIR" "$LOG_DIR"
}

print_exports() {
    printf 'export DATABASE_URL=%q\n' "$DATABASE_URL"
    printf 'export AMQP_URL=%q\n' "$AMQP_URL"
    printf 'export RATIFY_TEST_DATABASE_URL=%q\n' "$TEST_DATABASE_URL"
    printf 'export RATIFY_TEST_AMQP_URL=%q\n' "$AMQP_URL"
    if [[ -n ${DATABASE_READ_URL:-} ]]; then
        printf 'export DATABASE_READ_URL=%q\n' "$DATABASE_READ_URL"
        printf 'export RATIFY_TEST_DATABASE_READ_URL=%q\n' "$TEST_DATABASE_READ_URL"
    fi
    if rmq_is_cluster; then
        printf 'export AMQP_URLS=%q\n' "$AMQP_URLS"
        printf 'export RATIFY_TEST_AMQP_URLS=%q\n' "$AMQP_URLS"
    fi
}

start_servers() {
    prepare_dirs
    ensure_packages
    if [[ -n ${PG_WANT_REPLICA:-} ]]; then replica_prepare_primary; fi
    start_postgres
    if [[ -n ${PG_WANT_REPLICA:-} ]]; then start_replica; fi
    start_rabbitmq ${RMQ_WANT_CLUSTER:+--cluster}
}

cmd_servers() {
    while (($#)); do
        case $1 in
            --cluster) RMQ_WANT_CLUSTER=1 ;;
            --replica) PG_WANT_REPLICA=1 ;;
            *) die "servers: unknown argument '$1' (see deploy/local.sh help)" ;;
        esac
        shift
    done
    start_servers
    print_exports
}

cmd_env() {
    pg_resolve_port
    rmq_resolve_ports
    pg_pid >/dev/null || die "postgres is not running; start it with 'deploy/local.sh servers'"
    rmq_pid >/dev/null || die "rabbitmq is not running; start it with 'deploy/local.sh servers'"
    replica_resolve_port
    if replica_pid >/dev/null; then
        DATABASE_READ_URL=$REPLICA_URL TEST_DATABASE_READ_URL=$TEST_REPLICA_URL
    fi
    print_exports
    [[ -s $TOKEN_FILE ]] && printf 'export ADMIN_TOKEN=%q\n' "$(<"$TOKEN_FILE")"
    # Only if installed: `env` never installs anything (`test` does).
    if chromium_paths; then
        printf 'export RATIFY_CHROMIUM=%q\n' "$RATIFY_CHROMIUM"
        printf 'export RATIFY_CHROMEDRIVER=%q\n' "$RATIFY_CHROMEDRIVER"
    fi
    return 0
}

# $ADMIN_TOKEN wins and is saved, so the token file always matches the api.
admin_token() {
    if [[ -n ${ADMIN_TOKEN:-} ]]; then
        (umask 077 && printf '%s\n' "$ADMIN_TOKEN" >"$TOKEN_FILE")
    elif [[ ! -s $TOKEN_FILE ]]; then
        # 32 random bytes as hex; coreutils only, no openssl needed.
        (umask 077 && head -c 32 /dev/urandom | od -An -vtx1 | tr -d ' \n' >"$TOKEN_FILE")
        log "generated a new admin token in $TOKEN_FILE"
    fi
    chmod 600 "$TOKEN_FILE"
    ADMIN_TOKEN=$(<"$TOKEN_FILE")
}

target_dir() {
    local t=${CARGO_TARGET_DIR:-target}
    [[ $t == /* ]] || t=$ROOT/$t
    printf '%s\n' "$t"
}

stop_app() {
    local f
    stop_pid api "$API_PID_FILE" ratify-api 20
    for f in "$RUN_DIR"/worker-*.pid; do
        [[ -e $f ]] || continue
        stop_pid "$(basename "$f" .pid)" "$f" ratify-worker 20
    done
}

# `up` twice restarts the api and workers (stop recorded pids, start fresh)
# so a rebuilt binary always takes effect; Postgres/RabbitMQ are reused.
cmd_up() {
    local workers=2 bin i pid code deadline
    while (($#)); do
        case $1 in
            --workers) workers=${2:-}; shift 2 || die "--workers needs a number" ;;
            --workers=*) workers=${1#*=}; shift ;;
            --cluster) RMQ_WANT_CLUSTER=1; shift ;;
            --replica) PG_WANT_REPLICA=1; shift ;;
            *) die "up: unknown argument '$1' (see deploy/local.sh help)" ;;
        esac
    done
    [[ $workers =~ ^[0-9]+$ ]] || die "--workers must be a number, got '$workers'"
    local api_addr=${API_ADDR:-127.0.0.1:8080}

    start_servers
    bin=$(target_dir)/release
    if [[ ${RATIFY_NO_BUILD:-0} != 1 ]]; then
        log "building release binaries"
        (cd "$ROOT" && cargo build --release --bins)
    fi
    [[ -x $bin/ratify-api && -x $bin/ratify-worker ]] || die "binaries missing in $bin"
    admin_token
    stop_app
    ensure_port_free "${api_addr##*:}" API_ADDR

    log "running migrations"
    DATABASE_URL=$DATABASE_URL "$bin/ratify-api" migrate >>"$LOG_DIR/migrate.log" 2>&1 || {
        tail -n 20 "$LOG_DIR/migrate.log" >&2
        die "migrations failed, see $LOG_DIR/migrate.log"
    }

    export DATABASE_URL AMQP_URL ADMIN_TOKEN RUST_LOG=${RUST_LOG:-info}
    # A cluster: every process gets every node and fails over between them.
    if rmq_is_cluster; then export AMQP_URLS; else unset AMQP_URLS; fi
    # --replica: the api reads polls and lookups from the replica.
    if [[ -n ${DATABASE_READ_URL:-} ]]; then export DATABASE_READ_URL; else unset DATABASE_READ_URL; fi
    [[ -f $LOG_DIR/api.log ]] && mv -f "$LOG_DIR/api.log" "$LOG_DIR/api.log.1"
    API_ADDR=$api_addr spawn "$API_PID_FILE" "$LOG_DIR/api.log" "$bin/ratify-api"
    echo "$api_addr" >"$API_ADDR_FILE"
    for ((i = 1; i <= workers; i++)); do
        [[ -f $LOG_DIR/worker-$i.log ]] && mv -f "$LOG_DIR/worker-$i.log" "$LOG_DIR/worker-$i.log.1"
        # Each worker serves its metrics on a port of its own: 9101, 9102, …
        RATIFY_METRICS_ADDR=127.0.0.1:$((${RATIFY_METRICS_BASE_PORT:-9100} + i)) \
            spawn "$RUN_DIR/worker-$i.pid" "$LOG_DIR/worker-$i.log" "$bin/ratify-worker"
    done
    log "started api and $workers worker(s) (metrics on http://$api_addr/metrics and 127.0.0.1:$((${RATIFY_METRICS_BASE_PORT:-9100} + 1))… per worker); waiting for http://$api_addr/health"

    pid=$(<"$API_PID_FILE")
    deadline=$((SECONDS + 60))
    until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$api_addr/health") &&
        [[ $code == 200 ]]; do
        if ! pid_running "$pid"; then
            tail -n 30 "$LOG_DIR/api.log" >&2 || true
            die "the api exited during startup; see $LOG_DIR/api.log"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 30 "$LOG_DIR/api.log" >&2 || true
            die "api did not answer 200 on /health within 60 s (last status $code); see $LOG_DIR/api.log (processes left running; 'down' stops them)"
        fi
        sleep 0.5
    done
    cat <<EOF
Ratify is up:
  api:         http://$api_addr   (health: http://$api_addr/health)
  admin token: $TOKEN_FILE
               export ADMIN_TOKEN=\$(cat $TOKEN_FILE)   # the token itself is never printed
  logs:        $LOG_DIR/
  stop with:   deploy/local.sh down
EOF
}

cmd_down() {
    prepare_dirs
    stop_app
    stop_rabbitmq
    stop_replica
    stop_postgres
    # A dockerd the compose test started and could not stop (an interrupted run).
    stop_dockerd
    rm -f "$API_ADDR_FILE"
    log "all stopped"
}

cmd_test() {
    local t r rc=0
    check_disk
    start_servers
    t=$(target_dir)
    export RATIFY_TEST_DATABASE_URL=$TEST_DATABASE_URL
    export RATIFY_TEST_AMQP_URL=$AMQP_URL
    export RATIFY_BIN_DIR=$t/debug
    cd "$ROOT"
    # tests/tests/e2e/schemathesis.rs runs the Schemathesis CLI from .local/venv-schemathesis.
    ensure_schemathesis
    # tests/src/browser.rs drives Debian's chromium through chromedriver; exports
    # RATIFY_CHROMIUM and RATIFY_CHROMEDRIVER for it.
    ensure_chromium
    # One profile (debug) for the binaries and the tests: nothing builds twice.
    cargo build --workspace --bins
    # The sharding-key check (tests/tests/sharding_key.rs) reads what the suite sent from
    # pg_stat_statements: a full run starts the statistics afresh, leaves the check out of
    # the suite and runs it after. With ARGS it runs only if they select it, on what was
    # recorded since the last full run.
    local sharding=sharding_key_pins_every_recorded_statement
    if [ $# -eq 0 ]; then
        psql_q "SELECT pg_stat_statements_reset()" >/dev/null
    fi
    if cargo nextest --version >/dev/null 2>&1; then
        if [ $# -eq 0 ]; then
            cargo nextest run --workspace --no-fail-fast -E 'not binary(sharding_key)' || rc=$?
            RATIFY_SHARDING_FULL=1 cargo nextest run -p ratify-tests --test sharding_key --no-capture || rc=$?
        else
            cargo nextest run --workspace --no-fail-fast "$@" || rc=$?
        fi
    elif [ $# -eq 0 ]; then
        cargo test --workspace --no-fail-fast -- --skip "$sharding" || rc=$?
        RATIFY_SHARDING_FULL=1 cargo test -p ratify-tests --test sharding_key -- --nocapture || rc=$?
    else
        cargo test --workspace --no-fail-fast "$@" || rc=$?
    fi
    # The benchmark harness as a smoke check, on the debug build already made: its
    # figures are printed, never asserted (real figures come from `bench`).
    if [ "$rc" -eq 0 ] && [ $# -eq 0 ]; then
        "$t/debug/ratify-bench" --quick || rc=$?
    fi
    # The soak, short: every job DONE, every item once, the model kept, under faults.
    if [ "$rc" -eq 0 ] && [ $# -eq 0 ]; then
        "$t/debug/ratify-soak" --minutes 1 || rc=$?
    fi
    # The compose stack for real, on images of the debug binaries; skipped (not failed)
    # only when dockerd cannot start on this machine.
    if [ "$rc" -eq 0 ] && [ $# -eq 0 ]; then
        compose_test debug || { r=$?; [ "$r" -eq 3 ] || rc=$r; }
    fi
    exit "$rc"
}

cmd_compose_test() {
    local profile=release
    [[ ${1:-} == --debug ]] && profile=debug
    prepare_dirs
    cd "$ROOT"
    if [[ $profile == release ]]; then
        cargo build --release --bins -p ratify-api -p ratify-worker
        cargo build --release --bin ratify-compose -p ratify-tests
    else
        cargo build --bins -p ratify-api -p ratify-worker
        cargo build --bin ratify-compose -p ratify-tests
    fi
    compose_test "$profile"
}

# Builds the release binaries and runs harness $1 (the rest its arguments) against the servers.
run_harness() {
    local t bin=$1
    shift
    start_servers
    t=$(target_dir)
    export RATIFY_TEST_DATABASE_URL=$TEST_DATABASE_URL
    export RATIFY_TEST_AMQP_URL=$AMQP_URL
    export RATIFY_BIN_DIR=$t/release
    if [[ -n ${DATABASE_READ_URL:-} ]]; then export RATIFY_TEST_DATABASE_READ_URL=$TEST_DATABASE_READ_URL; fi
    cd "$ROOT"
    cargo build --release --bins
    exec "$t/release/$bin" "$@"
}

cmd_bench() {
    local arg
    for arg in "$@"; do [[ $arg == --replica ]] && PG_WANT_REPLICA=1; done
    run_harness ratify-bench "$@"
}

cmd_soak() { run_harness ratify-soak --minutes "${1:-5}"; }

# Fuzzing (docs/fuzzing.md). cargo-fuzz wants nightly's -Z flags: use a nightly toolchain
# if rustup has one (or can fetch one, tried once per machine), else the stable toolchain
# with RUSTC_BOOTSTRAP=1, which lets it take them. Sets FUZZ_CARGO (the cargo command).
fuzz_toolchain() {
    local marker=$ROOT/fuzz/target/.no-nightly
    FUZZ_CARGO=(cargo)
    if [[ ${FUZZ_TOOLCHAIN:-} == bootstrap ]]; then
        export RUSTC_BOOTSTRAP=1
        log "fuzzing on $(rustc --version) with RUSTC_BOOTSTRAP=1 (FUZZ_TOOLCHAIN=bootstrap)"
    elif cargo +nightly --version >/dev/null 2>&1; then
        FUZZ_CARGO=(cargo +nightly)
    elif [[ ! -e $marker ]] && command -v rustup >/dev/null &&
        timeout 300 rustup toolchain install nightly --profile minimal >&2 &&
        cargo +nightly --version >/dev/null 2>&1; then
        FUZZ_CARGO=(cargo +nightly)
    else
        mkdir -p "$(dirname "$marker")" && touch "$marker"
        export RUSTC_BOOTSTRAP=1
        log "no nightly toolchain: fuzzing on $(rustc --version) with RUSTC_BOOTSTRAP=1"
    fi
}

FUZZ_TARGETS=(batch_body money reference)

cmd_fuzz() {
    local seconds=60 sanitizer=${FUZZ_SANITIZER:-none} t rc=0 run_rc artifact stats again
    local -a targets=()
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then
        seconds=$1
        shift
    fi
    ((seconds > 0)) || die "fuzz: SECONDS must be at least 1"
    targets=("$@")
    ((${#targets[@]})) || targets=("${FUZZ_TARGETS[@]}")
    for t in "${targets[@]}"; do
        [[ -f $ROOT/fuzz/fuzz_targets/$t.rs ]] || die "fuzz: unknown target '$t' (targets: ${FUZZ_TARGETS[*]})"
    done
    if ! cargo fuzz --version >/dev/null 2>&1; then
        log "installing cargo-fuzz"
        cargo install cargo-fuzz --locked
    fi
    fuzz_toolchain
    # rustix 0.37 (via lapin) enables the rustc_attrs feature whenever its probe compiles
    # one, and then fails to build on recent compilers: allow no features at all, so the
    # probe fails and rustix builds as on stable.
    export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-Zallow-features="
    cd "$ROOT"
    # -a: debug assertions and overflow checks on, in an optimised build (fuzz/target).
    log "building fuzz targets with ${FUZZ_CARGO[*]} (sanitizer: $sanitizer)"
    for t in "${targets[@]}"; do
        "${FUZZ_CARGO[@]}" fuzz build -a -s "$sanitizer" "$t" >&2 || die "fuzz: building $t failed"
    done
    mkdir -p "$ROOT/fuzz/target/logs"
    for t in "${targets[@]}"; do
        # New inputs go to fuzz/target/corpus/T (git-ignored); fuzz/corpus/T holds the seeds.
        mkdir -p "$ROOT/fuzz/target/corpus/$t"
        local log_file=$ROOT/fuzz/target/logs/$t.log dict=()
        [[ -f $ROOT/fuzz/dict/$t.dict ]] && dict=("-dict=$ROOT/fuzz/dict/$t.dict")
        log "fuzzing $t for ${seconds}s (log: $log_file)"
        run_rc=0
        "${FUZZ_CARGO[@]}" fuzz run -a -s "$sanitizer" "$t" "$ROOT/fuzz/target/corpus/$t" "$ROOT/fuzz/corpus/$t" -- \
            -max_total_time="$seconds" -timeout=25 -print_final_stats=1 "${dict[@]}" >"$log_file" 2>&1 || run_rc=$?
        stats=$(awk '/^stat::number_of_executed_units/ {n=$NF} /^stat::average_exec_per_sec/ {r=$NF}
            END {if (n != "") printf "%s runs, %s exec/s", n, r}' "$log_file")
        if ((run_rc == 0)); then
            printf '%-12s ok      %s\n' "$t" "${stats:-no stats}"
            continue
        fi
        rc=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log_file" | tail -n 1)
        printf '%-12s FAILED  %s\n' "$t" "${stats:-}"
        grep -m 1 -A 4 'panicked at\|ERROR: libFuzzer\|^error' "$log_file" >&2 || tail -n 30 "$log_file" >&2
        if [[ -n $artifact ]]; then
            again="cd $ROOT && RUSTFLAGS='$RUSTFLAGS' ${RUSTC_BOOTSTRAP:+RUSTC_BOOTSTRAP=1 }${FUZZ_CARGO[*]} fuzz"
            printf '  input:     %s\n' "$artifact"
            printf '  reproduce: %s run -a -s %s %s %s\n' "$again" "$sanitizer" "$t" "$artifact"
            printf '  minimise:  %s tmin -a -s %s %s %s\n' "$again" "$sanitizer" "$t" "$artifact"
        else
            printf '  no input was written; see %s\n' "$log_file"
        fi
    done
    return "$rc"
}

# Single-server commands, for fault tests that restart one dependency under load.
cmd_stop_postgres() {
    case ${1:-} in
        --immediate) PG_STOP_MODE=immediate ;;
        '') ;;
        *) die "stop-postgres: unknown argument '$1' (see deploy/local.sh help)" ;;
    esac
    prepare_dirs
    stop_postgres
}

cmd_start_postgres() {
    prepare_dirs
    ensure_packages
    start_postgres
}

cmd_stop_replica() {
    prepare_dirs
    stop_replica
}

cmd_start_replica() {
    prepare_dirs
    ensure_packages
    start_postgres
    start_replica
}

cmd_stop_rabbitmq() {
    prepare_dirs
    rmq_resolve_ports
    stop_rabbitmq "$@"
}

cmd_start_rabbitmq() {
    prepare_dirs
    ensure_packages
    start_rabbitmq "$@"
}

status_line() {
    local name=$1 pid=$2 detail=$3
    if [[ -n $pid ]]; then
        printf '  %-12s running  pid %-8s %s\n' "$name" "$pid" "$detail"
    else
        printf '  %-12s stopped\n' "$name"
    fi
}

cmd_status() {
    local pid f addr code
    pg_resolve_port
    rmq_resolve_ports
    echo "Ratify local stack ($LOCAL):"
    status_line postgres "$(pg_pid || true)" "127.0.0.1:$PG_PORT"
    replica_resolve_port
    status_line pg-replica "$(replica_pid || true)" "127.0.0.1:$PGR_PORT"
    status_line rabbitmq "$(rmq_pid || true)" "127.0.0.1:$AMQP_PORT"
    if rmq_is_cluster; then
        status_line rabbitmq-2 "$(rmq_node_pid 2 || true)" "127.0.0.1:${RMQ_AMQP_PORTS[2]}"
        status_line rabbitmq-3 "$(rmq_node_pid 3 || true)" "127.0.0.1:${RMQ_AMQP_PORTS[3]}"
    fi
    status_line epmd "$(epmd_pid || true)" "127.0.0.1:$EPMD_PORT"
    addr=$(cat "$API_ADDR_FILE" 2>/dev/null || echo "${API_ADDR:-127.0.0.1:8080}")
    pid=$(pid_alive "$API_PID_FILE" ratify-api || true)
    if [[ -n $pid ]]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$addr/health" || true)
        status_line api "$pid" "http://$addr (health: ${code:-no answer})"
    else
        status_line api "" ""
    fi
    for f in "$RUN_DIR"/worker-*.pid; do
        [[ -e $f ]] || continue
        status_line "$(basename "$f" .pid)" "$(pid_alive "$f" ratify-worker || true)" ""
    done
}

main() {
    local cmd=${1:-help}
    (($#)) && shift
    case $cmd in
        servers) cmd_servers "$@" ;;
        up) cmd_up "$@" ;;
        down) cmd_down "$@" ;;
        test) cmd_test "$@" ;;
        bench) cmd_bench "$@" ;;
        soak) cmd_soak "$@" ;;
        compose-test) cmd_compose_test "$@" ;;
        fuzz) cmd_fuzz "$@" ;;
        schemathesis) ensure_schemathesis && printf '%s\n' "$(schemathesis_venv)/bin/st" ;;
        env) cmd_env "$@" ;;
        status) cmd_status "$@" ;;
        stop-postgres) cmd_stop_postgres "$@" ;;
        start-postgres) cmd_start_postgres "$@" ;;
        stop-replica) cmd_stop_replica "$@" ;;
        start-replica) cmd_start_replica "$@" ;;
        stop-rabbitmq) cmd_stop_rabbitmq "$@" ;;
        start-rabbitmq) cmd_start_rabbitmq "$@" ;;
        rabbitmq-leader) cmd_rabbitmq_leader "$@" ;;
        rabbitmqctl) cmd_rabbitmqctl "$@" ;;
        help | -h | --help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
