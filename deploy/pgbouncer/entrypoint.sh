#!/bin/sh
# Render pgbouncer.ini from the environment, write the one user's password, run in the foreground.
set -eu
: "${DB_HOST:=postgres}" "${DB_PORT:=5432}" "${DB_NAME:=actionwave}" "${DB_USER:=actionwave}"
: "${LISTEN_ADDR:=0.0.0.0}" "${LISTEN_PORT:=6432}" "${MAX_CLIENT_CONN:=2000}"
: "${DEFAULT_POOL_SIZE:=40}" "${DB_STATEMENT_TIMEOUT_MS:=60000}" "${DB_LOCK_TIMEOUT_MS:=10000}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
AUTH_FILE=/tmp/userlist.txt
export DB_HOST DB_PORT DB_NAME LISTEN_ADDR LISTEN_PORT MAX_CLIENT_CONN DEFAULT_POOL_SIZE \
       DB_STATEMENT_TIMEOUT_MS DB_LOCK_TIMEOUT_MS AUTH_FILE
umask 077
printf '"%s" "%s"\n' "$DB_USER" "$POSTGRES_PASSWORD" > "$AUTH_FILE"
envsubst < /etc/pgbouncer/pgbouncer.ini.template > /tmp/pgbouncer.ini
exec pgbouncer /tmp/pgbouncer.ini
