#!/bin/sh
# The entrypoint of the read replica (postgres-replica in deploy/docker-compose.cluster.yml),
# for the official postgres image and deploy/images/postgres alike, run as the postgres user.
#
# First start (no finished backup in $PGDATA): a base backup of the primary, its WAL
# streamed alongside (-X stream), written as a standby of it (-R: standby.signal and
# primary_conninfo with these credentials). Every start then runs postgres with the
# command's arguments, a hot standby replaying the primary's WAL as it comes and
# answering reads. The primary's pg_hba.conf must let POSTGRES_USER in for replication
# (deploy/cluster/postgres-replication.sh).
set -eu

if [ "${1:-}" = postgres ]; then
    shift
fi

primary=${PRIMARY_HOST:-postgres}
user=${POSTGRES_USER:-postgres}
# Written once pg_basebackup succeeded: a backup cut short (the container killed
# mid-copy) never passes for a replica, it is taken again.
done_mark=$PGDATA/ratify-replica.done

if [ ! -e "$done_mark" ]; then
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD, the primary's superuser password}"
    find "$PGDATA" -mindepth 1 -delete
    export PGPASSWORD="$POSTGRES_PASSWORD"
    # The primary is healthy before this starts (depends_on), but may still be finishing
    # its first start: retry for a minute.
    tries=0
    until pg_basebackup -h "$primary" -U "$user" -D "$PGDATA" -R -X stream -c fast; do
        tries=$((tries + 1))
        [ "$tries" -lt 30 ] || { echo "postgres-replica: no base backup from $primary" >&2; exit 1; }
        find "$PGDATA" -mindepth 1 -delete
        sleep 2
    done
    unset PGPASSWORD
    touch "$done_mark"
    echo "postgres-replica: base backup of $primary taken into $PGDATA"
fi
# The official image makes the volume's folder world-writable; postgres wants it private.
chmod 700 "$PGDATA"

exec postgres -D "$PGDATA" -c listen_addresses='*' -c hot_standby=on "$@"
