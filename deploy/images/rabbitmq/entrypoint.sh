#!/bin/sh
# Writes the node's configuration (the default user, applied by RabbitMQ on the
# node's first start only), then runs the command.
set -eu

cat >/etc/rabbitmq/rabbitmq.conf <<CONF
listeners.tcp.default = 5672
management.tcp.port = 15672
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
loopback_users = none
CONF

if [ "${1:-}" = rabbitmq-server ]; then
    shift
    exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
exec "$@"
