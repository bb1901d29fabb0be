#!/usr/bin/env bash
# Stop the test WordPress started by tests/wordpress/setup.sh.
#
#   tests/wordpress/stop.sh [SITE_DIR] [--drop-db] [--purge]
#
#   SITE_DIR   default /tmp/publisher-wp
#   --drop-db  also drop the database and its user (PUBLISHER_WP_DB_* as in setup.sh)
#   --purge    also remove SITE_DIR
#
# Only the server recorded in SITE_DIR/.server.pid is stopped (its process group:
# php -S and its workers). Quiet; exits 0 when nothing was running.
set -euo pipefail

SITE=/tmp/publisher-wp
drop_db=0
purge=0
for arg in "$@"; do
    case "$arg" in
        --drop-db) drop_db=1 ;;
        --purge) purge=1 ;;
        -*) echo "stop.sh: unknown option $arg" >&2; exit 2 ;;
        *) SITE="$arg" ;;
    esac
done
PIDFILE="$SITE/.server.pid"

if [ -s "$PIDFILE" ]; then
    read -r pid _ <"$PIDFILE" || true
    # Only a live `php ... -S ...` process of ours, never whatever reused the pid.
    if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null &&
       tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- 'php .*-S 127\.0\.0\.1:'; then
        if [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
            kill -TERM -- "-$pid" 2>/dev/null || true    # the group: server + workers
        else
            kill -TERM "$pid" 2>/dev/null || true
        fi
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PIDFILE"
fi

if [ "$drop_db" = 1 ]; then
    DB_NAME="${PUBLISHER_WP_DB_NAME:-publisher_wp_test}"
    DB_USER="${PUBLISHER_WP_DB_USER:-publisher_wp}"
    DB_HOST="${PUBLISHER_WP_DB_HOST:-127.0.0.1}"
    DB_PORT="${PUBLISHER_WP_DB_PORT:-3306}"
    mariadb --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u root <<EOF
DROP DATABASE IF EXISTS \`$DB_NAME\`;
DROP USER IF EXISTS '$DB_USER'@'localhost';
DROP USER IF EXISTS '$DB_USER'@'127.0.0.1';
EOF
    rm -f "$SITE/.app-password"
fi

if [ "$purge" = 1 ] && [ -e "$SITE/.publisher-wp" ]; then
    rm -rf "$SITE"
fi
exit 0
