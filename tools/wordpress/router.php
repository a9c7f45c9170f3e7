<?php
/*
 * Router for `php -S`: files that exist are served as they are, every other path goes
 * through WordPress's index.php (without a router the built-in server answers 404 for
 * a missing path that has a dot in it, and knows nothing of pretty permalinks).
 *
 * Every request is appended to requests.log in the site's folder: "METHOD URI" when it
 * arrives, "done METHOD URI STATUS" when WordPress has answered.
 *
 * Test hooks, honoured only when the server was started with SAMACHAR_WP_TEST_HOOKS=1, read
 * control.json beside the log at each request:
 *   {"delay": {"POST /wp-json/wp/v2/posts": 30}}  hold the answer back after WordPress has
 *       done the work (a client killed meanwhile never learns the result); the key is the
 *       method and the path without its query; the wait ends early when the key is removed
 *   {"max_body": 1000}          answer 413 to a larger body, as a proxy in front of a site would
 *   {"fail": {"POST /wp-json/wp/v2/posts": 503}}  answer that status instead of WordPress (a 429 says
 *       Retry-After: 60), as an overloaded host would
 *   {"strip_link": true}        no Link header to the REST API (read by samachar-test-hooks.php)
 *   {"strip_authorization": true}   drop the Authorization header, as some hosts do
 *   {"rest_off": true}          the REST API switched off (read by samachar-test-hooks.php)
 *   {"allow_svg": true}         SVG uploads taken, as with an SVG plugin (samachar-test-hooks.php too)
 *   {"app_passwords_off": true} no Application Passwords, as on plain http without 'local' (likewise)
 */

$samachar_site = getenv('SAMACHAR_WP_SITE');
$samachar_method = $_SERVER['REQUEST_METHOD'];
$samachar_uri = $_SERVER['REQUEST_URI'];
$samachar_path = parse_url($samachar_uri, PHP_URL_PATH);
$samachar_key = $samachar_method . ' ' . $samachar_path;
$samachar_log = $samachar_site . '/requests.log';
file_put_contents($samachar_log, "$samachar_method $samachar_uri\n", FILE_APPEND | LOCK_EX);

function samachar_control() {
    if (getenv('SAMACHAR_WP_TEST_HOOKS') !== '1') {
        return array();
    }
    $text = @file_get_contents(getenv('SAMACHAR_WP_SITE') . '/control.json');
    $control = $text ? json_decode($text, true) : null;
    return is_array($control) ? $control : array();
}

$GLOBALS['samachar_test_control'] = samachar_control();
$samachar_control = $GLOBALS['samachar_test_control'];

if (isset($samachar_control['max_body']) && (int) ($_SERVER['CONTENT_LENGTH'] ?? 0) > (int) $samachar_control['max_body']) {
    http_response_code(413);
    header('Content-Type: text/html');
    echo "<html><body><h1>413 Request Entity Too Large</h1></body></html>";
    file_put_contents($samachar_log, "done $samachar_method $samachar_uri 413\n", FILE_APPEND | LOCK_EX);
    return true;
}
$samachar_fail = $samachar_control['fail'][$samachar_key] ?? null;
if (!$samachar_fail && strpos($samachar_uri, 'rest_route=') !== false) {  // the same route, the other way
    parse_str((string) parse_url($samachar_uri, PHP_URL_QUERY), $samachar_query);
    $samachar_fail = $samachar_control['fail'][$samachar_method . ' /wp-json' . ($samachar_query['rest_route'] ?? '')] ?? null;
}
if ($samachar_fail) {
    http_response_code((int) $samachar_fail);
    if ((int) $samachar_fail === 429) {
        header('Retry-After: 60');
    }
    header('Content-Type: text/html');
    echo "<html><body><h1>$samachar_fail</h1></body></html>";
    file_put_contents($samachar_log, "done $samachar_method $samachar_uri $samachar_fail\n", FILE_APPEND | LOCK_EX);
    return true;
}
if (!empty($samachar_control['strip_authorization'])) {
    unset($_SERVER['HTTP_AUTHORIZATION'], $_SERVER['PHP_AUTH_USER'], $_SERVER['PHP_AUTH_PW']);
}

$samachar_file = $_SERVER['DOCUMENT_ROOT'] . urldecode($samachar_path);
if ($samachar_path !== '/' && is_file($samachar_file) && substr($samachar_file, -4) !== '.php') {
    return false;  // a static file: the built-in server sends it
}

ob_start();  // WordPress's answer is held until the shutdown below has run
register_shutdown_function(function () use ($samachar_log, $samachar_method, $samachar_uri, $samachar_key) {
    $status = http_response_code();
    file_put_contents($samachar_log, "done $samachar_method $samachar_uri $status\n", FILE_APPEND | LOCK_EX);
    $control = samachar_control();
    $seconds = (float) ($control['delay'][$samachar_key] ?? 0);
    $until = microtime(true) + $seconds;
    while ($seconds > 0 && microtime(true) < $until) {
        usleep(100000);
        $control = samachar_control();
        if (!isset($control['delay'][$samachar_key])) {
            break;
        }
    }
});

if ($samachar_path !== '/' && is_file($samachar_file)) {
    chdir(dirname($samachar_file));
    require $samachar_file;  // wp-login.php, wp-admin/…: run as requested
} else {
    chdir($_SERVER['DOCUMENT_ROOT']);
    require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
}
