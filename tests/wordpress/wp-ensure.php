<?php
/*
 * Idempotent WordPress bootstrap, run by setup.sh with PHP's CLI:
 *
 *   php wp-ensure.php SITE_DIR
 *
 * Reads its settings from the environment (set by setup.sh):
 *   PUBLISHER_WP_URL        base URL, e.g. http://127.0.0.1:8089
 *   PUBLISHER_WP_USER       admin login to ensure, e.g. bientap
 *   PUBLISHER_WP_PASSWORD   that user's login password (used only when the user is created)
 *   PUBLISHER_WP_TIMEZONE   site timezone_string, e.g. Asia/Ho_Chi_Minh
 *   PUBLISHER_WP_APP_NAME   name of the Application Password
 *   PUBLISHER_WP_APP_PASSWORD_FILE  where the plain Application Password is kept
 *
 * Installs WordPress if the database has no install yet (wp_install()), makes
 * sure the admin user exists, sets pretty permalinks and the timezone, and
 * makes sure an Application Password exists whose plain text is in the file
 * (WordPress keeps only a hash, so a new one is made when the file's one no
 * longer matches). Prints nothing on stdout; progress goes to stderr.
 */

if (PHP_SAPI !== 'cli') {
    exit(1);
}
$pwp_site = rtrim($argv[1] ?? '', '/');
if ($pwp_site === '' || !is_file("$pwp_site/wp-load.php")) {
    fwrite(STDERR, "usage: php wp-ensure.php SITE_DIR\n");
    exit(2);
}

// Every variable of this script is prefixed pwp_: at file scope they are
// globals, and WordPress overwrites globals such as $user_login while it runs.
function env_or($name, $default)
{
    $v = getenv($name);
    return ($v === false || $v === '') ? $default : $v;
}

$pwp_url = env_or('PUBLISHER_WP_URL', 'http://127.0.0.1:8089');
$pwp_user_login = env_or('PUBLISHER_WP_USER', 'bientap');
$pwp_user_pass = env_or('PUBLISHER_WP_PASSWORD', 'bientap-local-only');
$pwp_timezone = env_or('PUBLISHER_WP_TIMEZONE', 'Asia/Ho_Chi_Minh');
$pwp_app_name = env_or('PUBLISHER_WP_APP_NAME', 'publisher-tests');
$pwp_app_file = env_or('PUBLISHER_WP_APP_PASSWORD_FILE', "$pwp_site/.app-password");

// A request-like environment for code that looks at $_SERVER.
$pwp_parts = parse_url($pwp_url);
$_SERVER['HTTP_HOST'] = $pwp_parts['host'] . (isset($pwp_parts['port']) ? ':' . $pwp_parts['port'] : '');
$_SERVER['SERVER_NAME'] = $pwp_parts['host'];
$_SERVER['SERVER_PORT'] = $pwp_parts['port'] ?? 80;
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';

// Like wp-cli's `core install`: lets wp-load.php run before the tables exist.
define('WP_INSTALLING', true);
require "$pwp_site/wp-load.php";

// No outbound HTTP from this script (wp_install() probes pretty permalinks
// with a loopback request; the server may not be running yet).
add_filter('pre_http_request', function () {
    return new WP_Error('publisher_offline', 'no HTTP from wp-ensure.php');
}, 1);

// Pluggable: no "new site" e-mail (there is no sendmail here).
if (!function_exists('wp_new_blog_notification')) {
    function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password)
    {
    }
}
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/user.php';

function say($msg)
{
    fwrite(STDERR, "wp-ensure: $msg\n");
}

if (!is_blog_installed()) {
    say('installing WordPress ' . $GLOBALS['wp_version']);
    $pwp_result = wp_install('Publisher test portal', $pwp_user_login, "$pwp_user_login@example.com", false, '', $pwp_user_pass);
    if (empty($pwp_result['user_id'])) {
        say('wp_install() failed');
        exit(3);
    }
} else {
    // An install from an older package version: bring the schema up to date.
    if ((int) get_option('db_version') !== (int) $GLOBALS['wp_db_version']) {
        say('upgrading database schema');
        wp_upgrade();
    }
}

$pwp_user = get_user_by('login', $pwp_user_login);
if (!$pwp_user) {
    say("creating user $pwp_user_login");
    $pwp_id = wp_insert_user(array(
        'user_login' => $pwp_user_login,
        'user_pass' => $pwp_user_pass,
        'user_email' => "$pwp_user_login@example.com",
        'role' => 'administrator',
    ));
    if (is_wp_error($pwp_id)) {
        say('wp_insert_user: ' . $pwp_id->get_error_message());
        exit(3);
    }
    $pwp_user = get_user_by('id', $pwp_id);
}
if (!in_array('administrator', (array) $pwp_user->roles, true)) {
    $pwp_user->set_role('administrator');
}

// Pretty permalinks: /wp-json/... and /slug/ (router.php does the rewriting).
if (get_option('permalink_structure') !== '/%postname%/') {
    global $wp_rewrite;
    $wp_rewrite->set_permalink_structure('/%postname%/');
    flush_rewrite_rules(false); // false: no .htaccess
}
if (get_option('timezone_string') !== $pwp_timezone) {
    update_option('timezone_string', $pwp_timezone);
    update_option('gmt_offset', '');
}
if (get_option('blog_public') !== '0') {
    update_option('blog_public', '0');
}

// Application Password: keep the one in $pwp_app_file while it still matches.
$pwp_plain = is_file($pwp_app_file) ? trim((string) file_get_contents($pwp_app_file)) : '';
$pwp_items = WP_Application_Passwords::get_user_application_passwords($pwp_user->ID);
$pwp_valid = false;
foreach ($pwp_items as $pwp_item) {
    if ($pwp_item['name'] === $pwp_app_name && $pwp_plain !== '' && wp_check_password($pwp_plain, $pwp_item['password'], $pwp_user->ID)) {
        $pwp_valid = true;
        break;
    }
}
if (!$pwp_valid) {
    foreach ($pwp_items as $pwp_item) {
        if ($pwp_item['name'] === $pwp_app_name) {
            WP_Application_Passwords::delete_application_password($pwp_user->ID, $pwp_item['uuid']);
        }
    }
    $pwp_created = WP_Application_Passwords::create_new_application_password($pwp_user->ID, array('name' => $pwp_app_name));
    if (is_wp_error($pwp_created)) {
        say('create_new_application_password: ' . $pwp_created->get_error_message());
        exit(3);
    }
    list($pwp_plain) = $pwp_created;
    $pwp_old = umask(077);
    file_put_contents($pwp_app_file, $pwp_plain . "\n");
    umask($pwp_old);
    say("new application password '$pwp_app_name' for $pwp_user_login");
}
exit(0);
