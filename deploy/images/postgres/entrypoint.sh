#!/bin/sh
# First start: create the cluster in $PGDATA with POSTGRES_USER (default postgres) as
# its superuser, password POSTGRES_PASSWORD, and the database POSTGRES_DB (default:
# the user's name), then run the scripts of /docker-entrypoint-initdb.d as the official
# image does (*.sh sourced, or run when executable; *.sql through psql), against a
# server listening on no TCP address. Then run postgres with the command's arguments,
# listening on all interfaces of the container with password authentication.
set -eu

if [ "${1:-}" = postgres ]; then
    shift
elif [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    exec "$@"
fi

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$db" != postgres ]; then
        createdb -U "$user" "$db"
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sh) if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
            *.sql) psql -v ON_ERROR_STOP=1 -q -U "$user" -d "$db" -f "$f" ;;
            *) [ ! -e "$f" ] || echo "postgres-entrypoint: ignoring $f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "postgres-entrypoint: initialised $PGDATA (user $user, database $db)"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
