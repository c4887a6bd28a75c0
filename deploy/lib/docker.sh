# shellcheck shell=bash
# The compose test's Docker: the engine (Debian's docker.io, started as a plain
# process when none runs, stopped by its pid when we started it), a Debian base image
# made locally with debootstrap (no registry is needed), look-alike Postgres and
# RabbitMQ images built from Debian's packages when the official ones cannot be
# pulled, and Ratify's image from binaries built on this host. Sourced by local.sh.

DOCKERD_PID_FILE=$RUN_DIR/dockerd.pid
BASE_IMAGE=ratify/debian:bookworm
LOCAL_POSTGRES_IMAGE=ratify/postgres:15
LOCAL_RABBITMQ_IMAGE=ratify/rabbitmq:3.10
OFFICIAL_POSTGRES_IMAGE=postgres:16
OFFICIAL_RABBITMQ_IMAGE=rabbitmq:3.13-management
RATIFY_COMPOSE_IMAGE=ratify:compose-test

# Installs what the compose test needs and is missing: the engine, its CLI,
# docker-compose and debootstrap.
ensure_docker_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker >/dev/null || missing+=(docker.io)
    command -v docker-compose >/dev/null || missing+=(docker-compose)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    ((${#missing[@]})) || return 0
    [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run this script as root to install them"
    log "installing ${missing[*]} (first compose test on this machine)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

docker_up() { docker info >/dev/null 2>&1; }

# Starts dockerd when none answers. Returns 1 (with the reason on stderr) when it
# cannot start on this machine.
start_dockerd() {
    docker_up && return 0
    log "starting dockerd (log $LOG_DIR/dockerd.log)"
    spawn "$DOCKERD_PID_FILE" "$LOG_DIR/dockerd.log" dockerd
    local i
    for ((i = 0; i < 120; i++)); do
        docker_up && return 0
        pid_alive "$DOCKERD_PID_FILE" dockerd >/dev/null || break
        sleep 0.5
    done
    log "dockerd could not start here; its last log lines:"
    tail -n 5 "$LOG_DIR/dockerd.log" >&2 || true
    stop_dockerd
    return 1
}

# Stops dockerd only if this script started it.
stop_dockerd() { stop_pid dockerd "$DOCKERD_PID_FILE" dockerd 60; }

# The Debian mirror of this machine's apt sources (deb822 or one-line form).
debian_mirror() {
    local m
    m=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\/\{0,1\}\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
    [[ -n $m ]] || m=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\(http[^ ]*\/debian\/\{0,1\}\) .*/\2/p' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
    printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The base image, made once with debootstrap and kept (docker's cache).
ensure_base_image() {
    have_image "$BASE_IMAGE" && return 0
    local dir=$LOCAL/docker/base mirror
    mirror=$(debian_mirror)
    log "making $BASE_IMAGE with debootstrap from $mirror (once)"
    rm -rf "$dir" && mkdir -p "$dir"
    debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$LOG_DIR/debootstrap.log" 2>&1 ||
        die "debootstrap failed; see $LOG_DIR/debootstrap.log"
    tar -C "$dir" -c . | docker import -c 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$dir"
}

# build_image TAG CONTEXT [ARGS...]: the classic builder, which needs no registry for
# the syntax line and runs on any engine.
build_image() {
    local tag=$1 context=$2; shift 2
    log "building $tag"
    DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$@" "$context" >"$LOG_DIR/docker-build.log" 2>&1 ||
        { tail -n 20 "$LOG_DIR/docker-build.log" >&2; die "building $tag failed"; }
}

# Sets POSTGRES_IMAGE and RABBITMQ_IMAGE: the official images when a registry gives
# them, else the look-alikes of deploy/images/ built on the base.
ensure_server_images() {
    if docker pull -q "$OFFICIAL_POSTGRES_IMAGE" >/dev/null 2>&1 &&
        docker pull -q "$OFFICIAL_RABBITMQ_IMAGE" >/dev/null 2>&1; then
        POSTGRES_IMAGE=$OFFICIAL_POSTGRES_IMAGE RABBITMQ_IMAGE=$OFFICIAL_RABBITMQ_IMAGE
        return 0
    fi
    log "no registry: Postgres and RabbitMQ images from Debian's packages (deploy/images/)"
    ensure_base_image
    build_image "$LOCAL_POSTGRES_IMAGE" "$ROOT/deploy/images/postgres"
    build_image "$LOCAL_RABBITMQ_IMAGE" "$ROOT/deploy/images/rabbitmq"
    POSTGRES_IMAGE=$LOCAL_POSTGRES_IMAGE RABBITMQ_IMAGE=$LOCAL_RABBITMQ_IMAGE
}

# ratify_image PROFILE: Ratify's image (the Dockerfile's `prebuilt` target) from the
# binaries of target/PROFILE, stripped of their debug info on the way in.
ratify_image() {
    local profile=$1 bin=$ROOT/deploy/images/ratify/bin t b
    t=$(target_dir)/$profile
    ensure_base_image
    find "$bin" -mindepth 1 -maxdepth 1 ! -name .gitignore -delete
    for b in ratify-api ratify-worker; do
        [[ -x $t/$b ]] || die "$t/$b is not built"
        if command -v strip >/dev/null; then strip -o "$bin/$b" "$t/$b"; else cp "$t/$b" "$bin/$b"; fi
    done
    build_image "$RATIFY_COMPOSE_IMAGE" "$ROOT" -f "$ROOT/deploy/Dockerfile" --target prebuilt \
        --build-arg "RUNTIME_BASE=$BASE_IMAGE"
    find "$bin" -mindepth 1 -maxdepth 1 ! -name .gitignore -delete
}

# compose_test PROFILE: the two scenarios (tests/src/bin/ratify-compose) on images made
# from target/PROFILE: the base file (a worker killed, the workers scaled down), then
# with the cluster override (the RabbitMQ node leading the chunk queue stopped, the api
# reading from the replica). Returns 3 when skipped because dockerd cannot start.
compose_test() {
    local profile=$1 t project api_port ui_port rc=0 started= token
    local base=$ROOT/deploy/docker-compose.yml cluster=$ROOT/deploy/docker-compose.cluster.yml
    ensure_docker_packages
    docker_up || started=1
    start_dockerd || { log "SKIPPED the compose test: dockerd cannot start on this machine"; return 3; }
    ensure_server_images
    ratify_image "$profile"
    t=$(target_dir)/$profile
    project=ratify-compose-$$
    api_port=${RATIFY_COMPOSE_API_PORT:-58080} ui_port=${RATIFY_COMPOSE_UI_PORT:-58081}
    ensure_port_free "$api_port" RATIFY_COMPOSE_API_PORT
    ensure_port_free "$ui_port" RATIFY_COMPOSE_UI_PORT
    token=$(head -c 24 /dev/urandom | od -An -vtx1 | tr -d ' \n')
    # The servers' URLs of a shell that ran `eval "$(deploy/local.sh env)"` point at this
    # host's loopback: kept out, the files' own defaults (the bundled servers) apply.
    local -a stack_env=(env -u DATABASE_URL -u DATABASE_READ_URL -u AMQP_URL -u AMQP_URLS
        ADMIN_TOKEN="$token" RATIFY_IMAGE="$RATIFY_COMPOSE_IMAGE" RATIFY_POSTGRES_IMAGE="$POSTGRES_IMAGE"
        RATIFY_RABBITMQ_IMAGE="$RABBITMQ_IMAGE" RATIFY_API_PORT="$api_port" RATIFY_RABBITMQ_UI_PORT="$ui_port")
    log "compose test: project $project, api on 127.0.0.1:$api_port"
    "${stack_env[@]}" COMPOSE_PROJECT_NAME="$project" \
        "$t/ratify-compose" --file "$base" --api "http://127.0.0.1:$api_port" || rc=$?
    if [[ $rc -eq 0 ]]; then
        # Two workers: three RabbitMQ nodes and two Postgres servers share the machine.
        log "compose test, cluster override: project $project-cluster"
        "${stack_env[@]}" COMPOSE_PROJECT_NAME="$project-cluster" \
            "$t/ratify-compose" --cluster --file "$base" --file "$cluster" --workers 2 \
            --api "http://127.0.0.1:$api_port" || rc=$?
    fi
    # The harness removes the stacks; this is for when it could not.
    COMPOSE_PROJECT_NAME=$project ADMIN_TOKEN=unused docker-compose -f "$base" \
        down -v --remove-orphans >/dev/null 2>&1 || true
    COMPOSE_PROJECT_NAME=$project-cluster ADMIN_TOKEN=unused docker-compose -f "$base" -f "$cluster" \
        down -v --remove-orphans >/dev/null 2>&1 || true
    [[ -n $started ]] && stop_dockerd
    return "$rc"
}
