# Runs once, when the primary's data volume is new (an init script of
# /docker-entrypoint-initdb.d, sourced by the image's entrypoint after initdb): lets
# the read replica of deploy/docker-compose.cluster.yml connect for replication as the
# superuser, with its password. Postgres' "all" does not match replication connections,
# so the image's own `host all all all` line does not cover them.
printf 'host replication %s all scram-sha-256\n' "${POSTGRES_USER:-postgres}" >>"$PGDATA/pg_hba.conf"
echo "ratify-replication: replication connections allowed for ${POSTGRES_USER:-postgres}"
