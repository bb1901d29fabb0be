<?php
/*
 * Router for PHP's built-in web server (`php -S ... router.php`), standing in
 * for Apache's mod_rewrite / nginx's try_files so that WordPress's pretty
 * permalinks work, /wp-json/... included.
 *
 * Existing files are served as-is (PHP files are executed); everything else
 * goes to WordPress's front controller, index.php.
 */
$root = rtrim($_SERVER['DOCUMENT_ROOT'], '/');
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');

if ($path !== '/' && strpos($path, '..') === false) {
    $file = $root . $path;
    if (is_file($file)) {
        return false;
    }
    if (is_dir($file) && is_file(rtrim($file, '/') . '/index.php')) {
        return false;
    }
}

$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $root . '/index.php';
chdir($root);
require $root . '/index.php';
