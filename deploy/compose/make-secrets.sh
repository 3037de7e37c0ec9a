#!/bin/sh
# Makes the secret files compose.yaml mounts, once, under deploy/compose/secrets/ (or $1):
# the cloud's keys, the PostgreSQL and RabbitMQ passwords with the URLs that carry them, a
# metrics token, and a self-signed certificate for the edge (replace edge.pem with your own:
# certificate chain, then its private key). Files that exist are kept, so a re-run never
# changes a key that encrypted data. Run as root; each file is readable by its container's
# user only (the cloud image runs as uid 10001, the haproxy image as 99, rabbitmq as 999).
set -eu
DIR=${1:-$(dirname "$0")/secrets}
HOST=${ICARUS_EDGE_NAME:-localhost}
umask 077
mkdir -p "$DIR"
cd "$DIR"

made=''
new() { [ -e "$1" ] && return 1; made="$made $1"; return 0; }
password() { openssl rand -hex 24; }

new title_key && openssl rand -base64 32 > title_key
new token_secret && openssl rand -base64 32 > token_secret
new receipt_signing_key && openssl genpkey -algorithm ed25519 -out receipt_signing_key
new audit_signing_key && openssl genpkey -algorithm ed25519 -out audit_signing_key
new metrics_token && password > metrics_token
if new postgres_password; then
  password > postgres_password
  printf 'postgres://icarus:%s@postgres:5432/icarus\n' "$(cat postgres_password)" > database_url
fi
if new rabbitmq.conf; then
  pass=$(password)
  printf 'default_user = icarus\ndefault_pass = %s\ndefault_vhost = icarus\n' "$pass" > rabbitmq.conf
  printf 'amqp://icarus:%s@rabbitmq:5672/icarus\n' "$pass" > amqp_url
fi
if new edge.pem; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=$HOST" \
    -addext "subjectAltName=DNS:$HOST" -keyout edge.key -out edge.crt 2>/dev/null
  cat edge.crt edge.key > edge.pem
  rm -f edge.key
fi

chmod 400 ./*
if [ "$(id -u)" = 0 ]; then
  chown 10001:10001 title_key token_secret receipt_signing_key audit_signing_key metrics_token database_url amqp_url
  chown 99:99 edge.pem
  chown 999:999 rabbitmq.conf
fi
echo "secrets in $(pwd):${made:- none new}"
