#!/usr/bin/env bash
# A real, local WordPress (REST API + Application Password) for the test suite.
#
#   tests/wordpress/setup.sh [SITE_DIR]        (default /tmp/publisher-wp)
#
# Prints exactly three lines on stdout, and nothing else:
#   http://127.0.0.1:8089        base URL (REST API at BASE/wp-json/)
#   bientap                      admin user
#   AbCdEfGhIjKlMnOpQrStUvWx     its Application Password (24 chars, no spaces)
#
# Idempotent: a second run only checks (about a second). Everything it does is
# logged to SITE_DIR/setup.log; on failure it exits non-zero and shows the log's
# tail on stderr. Stop the server with tests/wordpress/stop.sh [SITE_DIR].
#
# Settings (environment):
#   PUBLISHER_WP_PORT        8089
#   PUBLISHER_WP_USER        bientap              (admin login)
#   PUBLISHER_WP_PASSWORD    bientap-local-only   (its login password, for wp-admin)
#   PUBLISHER_WP_TIMEZONE    Asia/Ho_Chi_Minh
#   PUBLISHER_WP_DB_NAME     publisher_wp_test
#   PUBLISHER_WP_DB_USER     publisher_wp
#   PUBLISHER_WP_DB_PASSWORD publisher_wp_local
#   PUBLISHER_WP_DB_HOST     127.0.0.1
#   PUBLISHER_WP_DB_PORT     3306
#   PUBLISHER_WP_CACHE       /var/cache/publisher-wp  (unpacked Debian wordpress package)
#   PUBLISHER_WP_RESET=1     drop the database first (a fresh site, new app password)
#   PUBLISHER_WP_NO_APT=1    never call apt-get (fail instead)
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SITE="${1:-/tmp/publisher-wp}"
mkdir -p "$SITE"
SITE="$(cd "$SITE" && pwd)"

PORT="${PUBLISHER_WP_PORT:-8089}"
WP_USER="${PUBLISHER_WP_USER:-bientap}"
WP_PASSWORD="${PUBLISHER_WP_PASSWORD:-bientap-local-only}"
WP_TIMEZONE="${PUBLISHER_WP_TIMEZONE:-Asia/Ho_Chi_Minh}"
DB_NAME="${PUBLISHER_WP_DB_NAME:-publisher_wp_test}"
DB_USER="${PUBLISHER_WP_DB_USER:-publisher_wp}"
DB_PASSWORD="${PUBLISHER_WP_DB_PASSWORD:-publisher_wp_local}"
DB_HOST="${PUBLISHER_WP_DB_HOST:-127.0.0.1}"
DB_PORT="${PUBLISHER_WP_DB_PORT:-3306}"
CACHE="${PUBLISHER_WP_CACHE:-/var/cache/publisher-wp}"
URL="http://127.0.0.1:${PORT}"
APP_NAME="publisher-tests"
APP_FILE="$SITE/.app-password"
PIDFILE="$SITE/.server.pid"
LOG="$SITE/setup.log"

PHP_PACKAGES=(php-cli php-mysql php-gd php-curl php-xml php-mbstring php-getid3)
PHP_SERVER_INI=(-d display_errors=0 -d log_errors=1 -d "error_log=$SITE/php-error.log"
                -d post_max_size=64M -d upload_max_filesize=64M -d memory_limit=256M)

# Quiet: fd 3 is the real stdout (for the three result lines), fd 4 the real
# stderr; everything else goes to the log.
[ -f "$LOG" ] && [ "$(stat -c %s "$LOG")" -gt 1000000 ] && : >"$LOG"
exec 3>&1 4>&2 1>>"$LOG" 2>&1
echo "=== $(date -Is) setup.sh $SITE port $PORT"

fail() {
    echo "FAILED: $*"
    {
        echo "tests/wordpress/setup.sh: $*"
        echo "--- last lines of $LOG:"
        tail -n 25 "$LOG"
    } >&4
    exit 1
}
trap 'fail "command failed (line $LINENO): $BASH_COMMAND"' ERR

# Guard: never spray WordPress into a directory that holds something else.
if [ ! -e "$SITE/.publisher-wp" ] && [ -n "$(ls -A "$SITE" | grep -vx 'setup.log' || true)" ]; then
    fail "$SITE is not empty and not a publisher test site; pick another directory"
fi
touch "$SITE/.publisher-wp"

no_apt_check() {
    if [ "${PUBLISHER_WP_NO_APT:-}" = 1 ]; then fail "packages missing and PUBLISHER_WP_NO_APT=1"; fi
}
apt_updated=0
apt_update() {
    if [ "$apt_updated" = 0 ]; then
        no_apt_check
        echo "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
}

# --- 1. PHP ------------------------------------------------------------------
php_ok() {
    command -v php >/dev/null &&
    php -r 'foreach (["mysqli","gd","curl","dom","xml","mbstring"] as $e) if (!extension_loaded($e)) exit(1);' &&
    [ -f /usr/share/php/getid3/getid3.php ]
}
if ! php_ok; then
    apt_update
    echo "apt-get install ${PHP_PACKAGES[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PHP_PACKAGES[@]}"
    php_ok || fail "PHP extensions still missing after apt-get install"
fi

# --- 2. WordPress sources (Debian's package, unpacked, without Apache) -------
# `apt-get install wordpress` would also install apache2 and libapache2-mod-php
# (Depends: apache2 | httpd); we only need the files, so the .debs are
# downloaded with apt and unpacked into $CACHE (delete it to refresh).
if [ -f /usr/share/wordpress/wp-includes/version.php ] && [ -f /usr/share/wordpress/wp-settings.php ]; then
    ROOT=""                     # the package is installed after all
elif [ -f "$CACHE/.complete" ]; then
    ROOT="$CACHE"
else
    no_apt_check
    echo "fetching Debian's wordpress package"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/publisher-wp-deb.XXXXXX")"
    # The theme only makes the public pages render (REST needs no theme).
    debs=(wordpress wordpress-theme-twentytwentythree)
    if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${debs[@]}"); then
        apt_update
        (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${debs[@]}")
    fi
    rm -rf "$CACHE.new" && mkdir -p "$CACHE.new"
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$CACHE.new"; done
    rm -rf "$tmp"
    # The package's relative symlinks (getid3, underscore, cropper) point at
    # other Debian packages under /usr/share; make them absolute so that copies
    # of the tree keep working.
    base="$CACHE.new"
    while IFS= read -r -d '' link; do
        target="$(readlink "$link")"
        case "$target" in
            /*) ;;
            *) rel="${link#"$base"}"
               ln -sfn "$(realpath -m "$(dirname "$rel")/$target")" "$link" ;;
        esac
    done < <(find "$base" -type l -print0)
    touch "$base/.complete"
    rm -rf "$CACHE" && mv "$base" "$CACHE"
    ROOT="$CACHE"
fi
SRC="$ROOT/usr/share/wordpress"
wp_version() { sed -n "s/^\$wp_version = '\(.*\)';/\1/p" "$1/wp-includes/version.php"; }
SRC_VERSION="$(wp_version "$SRC")"
[ -n "$SRC_VERSION" ] || fail "no WordPress version in $SRC"

# --- 3. the site directory ----------------------------------------------------
if [ ! -f "$SITE/wp-includes/version.php" ] || [ "$(wp_version "$SITE")" != "$SRC_VERSION" ]; then
    echo "laying out WordPress $SRC_VERSION in $SITE"
    cp -a "$SRC/." "$SITE/"
    rm -f "$SITE/wp-config.php" "$SITE/.htaccess"   # Debian's host-keyed config and /etc symlink
fi
mkdir -p "$SITE/wp-content/uploads" "$SITE/wp-content/themes"
# Themes added to the cache after the site was laid out (twentytwentythree).
for theme in "$SRC/wp-content/themes"/*/; do
    [ -d "$theme" ] || continue
    name="$(basename "$theme")"
    [ -e "$SITE/wp-content/themes/$name" ] || cp -a "$theme" "$SITE/wp-content/themes/$name"
done

if [ ! -s "$SITE/.wp-salt" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_' >"$SITE/.wp-salt")
fi
SALT="$(cat "$SITE/.wp-salt")"
php_quote() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }
config="$(cat <<EOF
<?php
// Written by tests/wordpress/setup.sh: a local test site, not for production.
define('DB_NAME', $(php_quote "$DB_NAME"));
define('DB_USER', $(php_quote "$DB_USER"));
define('DB_PASSWORD', $(php_quote "$DB_PASSWORD"));
define('DB_HOST', $(php_quote "$DB_HOST:$DB_PORT"));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
\$table_prefix = 'wp_';

define('AUTH_KEY',         '$SALT-auth');
define('SECURE_AUTH_KEY',  '$SALT-secure-auth');
define('LOGGED_IN_KEY',    '$SALT-logged-in');
define('NONCE_KEY',        '$SALT-nonce');
define('AUTH_SALT',        '$SALT-auth-salt');
define('SECURE_AUTH_SALT', '$SALT-secure-auth-salt');
define('LOGGED_IN_SALT',   '$SALT-logged-in-salt');
define('NONCE_SALT',       '$SALT-nonce-salt');

define('WP_HOME', '$URL');
define('WP_SITEURL', '$URL');
// 'local' lets Application Passwords work over plain HTTP
// (wp_is_application_passwords_supported(): is_ssl() || 'local' === wp_get_environment_type()).
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_DEBUG', false);
define('WP_DEBUG_DISPLAY', false);
define('DISABLE_WP_CRON', true);           // no loopback cron requests
define('WP_HTTP_BLOCK_EXTERNAL', true);    // no update checks: there is no internet here
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('FS_METHOD', 'direct');

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
EOF
)"
if [ ! -f "$SITE/wp-config.php" ] || [ "$(cat "$SITE/wp-config.php")" != "$config" ]; then
    echo "writing wp-config.php"
    printf '%s\n' "$config" >"$SITE/wp-config.php"
fi

# --- 4. MariaDB ---------------------------------------------------------------
db_root() { mariadb --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u root "$@"; }
if ! mariadb-admin --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u root ping >/dev/null 2>&1; then
    case "$DB_HOST" in
        127.0.0.1|localhost)
            echo "starting MariaDB"
            start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd 3>&- 4>&-
            for _ in $(seq 1 60); do
                mariadb-admin --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u root ping >/dev/null 2>&1 && break
                sleep 0.5
            done ;;
    esac
    mariadb-admin --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u root ping >/dev/null 2>&1 ||
        fail "MariaDB does not answer at $DB_HOST:$DB_PORT"
fi
if [ "${PUBLISHER_WP_RESET:-}" = 1 ]; then
    echo "dropping database $DB_NAME (PUBLISHER_WP_RESET=1)"
    db_root -e "DROP DATABASE IF EXISTS \`$DB_NAME\`"
    rm -f "$APP_FILE"
    rm -rf "$SITE/wp-content/uploads"
    mkdir -p "$SITE/wp-content/uploads"
fi
sql_str() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }
db_root <<EOF
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS $(sql_str "$DB_USER")@'localhost' IDENTIFIED BY $(sql_str "$DB_PASSWORD");
CREATE USER IF NOT EXISTS $(sql_str "$DB_USER")@'127.0.0.1' IDENTIFIED BY $(sql_str "$DB_PASSWORD");
ALTER USER $(sql_str "$DB_USER")@'localhost' IDENTIFIED BY $(sql_str "$DB_PASSWORD");
ALTER USER $(sql_str "$DB_USER")@'127.0.0.1' IDENTIFIED BY $(sql_str "$DB_PASSWORD");
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO $(sql_str "$DB_USER")@'localhost';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO $(sql_str "$DB_USER")@'127.0.0.1';
EOF

# --- 5. install WordPress, admin user, permalinks, Application Password -------
PUBLISHER_WP_URL="$URL" PUBLISHER_WP_USER="$WP_USER" PUBLISHER_WP_PASSWORD="$WP_PASSWORD" \
PUBLISHER_WP_TIMEZONE="$WP_TIMEZONE" PUBLISHER_WP_APP_NAME="$APP_NAME" \
PUBLISHER_WP_APP_PASSWORD_FILE="$APP_FILE" \
    php -d display_errors=stderr -d error_reporting=E_ALL\&~E_DEPRECATED \
        "$HERE/wp-ensure.php" "$SITE" </dev/null
APP_PASSWORD="$(tr -d '[:space:]' <"$APP_FILE")"
[ -n "$APP_PASSWORD" ] || fail "no application password in $APP_FILE"

# --- 6. PHP's built-in web server ---------------------------------------------
answers() { curl -fsS -o /dev/null --max-time 5 "$URL/wp-json/" 2>/dev/null; }
server_pid=""
if [ -s "$PIDFILE" ]; then
    read -r server_pid server_port server_site <"$PIDFILE" || true
    if ! kill -0 "$server_pid" 2>/dev/null || ! grep -qa -- '-S' "/proc/$server_pid/cmdline" 2>/dev/null; then
        server_pid=""
    elif [ "$server_port" != "$PORT" ] || [ "$server_site" != "$SITE" ] || ! answers; then
        echo "restarting the server (was pid $server_pid on port $server_port)"
        "$HERE/stop.sh" "$SITE"
        server_pid=""
    fi
fi
if [ -z "$server_pid" ]; then
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then
        fail "port $PORT is taken by another server; set PUBLISHER_WP_PORT"
    fi
    echo "starting php -S 127.0.0.1:$PORT"
    # setsid: own process group, so stop.sh can end the workers too.
    # 3>&- 4>&-: the server must not hold this script's stdout/stderr open,
    # or a caller reading them (subprocess.run(capture_output=True)) would hang.
    PHP_CLI_SERVER_WORKERS="${PUBLISHER_WP_WORKERS:-4}" \
        setsid php "${PHP_SERVER_INI[@]}" -S "127.0.0.1:$PORT" -t "$SITE" "$HERE/router.php" \
        </dev/null >"$SITE/server.log" 2>&1 3>&- 4>&- &
    server_pid=$!
    echo "$server_pid $PORT $SITE" >"$PIDFILE"
    for _ in $(seq 1 100); do
        answers && break
        kill -0 "$server_pid" 2>/dev/null || fail "php -S exited; see $SITE/server.log"
        sleep 0.1
    done
    answers || fail "no answer from $URL/wp-json/"
fi

# --- 7. check: the Application Password authenticates -------------------------
me="$(curl -fsS --max-time 10 -u "$WP_USER:$APP_PASSWORD" "$URL/wp-json/wp/v2/users/me?context=edit")" ||
    fail "Application Password rejected by $URL/wp-json/wp/v2/users/me"
case "$me" in
    *'"administrator"'*) ;;
    *) fail "users/me is not an administrator: $me" ;;
esac

echo "ready: $URL $WP_USER (WordPress $SRC_VERSION, $(php -r 'echo PHP_VERSION;'))"
printf '%s\n%s\n%s\n' "$URL" "$WP_USER" "$APP_PASSWORD" >&3
