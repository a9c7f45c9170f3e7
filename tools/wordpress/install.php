<?php
/*
 * Installs WordPress from the command line (Debian ships no wp-cli): the database named in
 * wp-config.php gets WordPress's tables, an administrator, pretty permalinks and an
 * Application Password; a subscriber with one too (for the "not allowed" checks).
 *
 *   php install.php WORDPRESS_DIR SITE_URL ADMIN_USER ADMIN_PASSWORD
 *
 * Prints {"user", "password", "reader", "reader_password"} as JSON (the passwords are
 * Application Passwords). Nothing is fetched and no mail is sent while installing.
 */

if ($argc !== 5) {
    fwrite(STDERR, "usage: php install.php WORDPRESS_DIR SITE_URL ADMIN_USER ADMIN_PASSWORD\n");
    exit(2);
}
list(, $dir, $url, $user, $password) = $argv;
$parts = parse_url($url);
$_SERVER['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';

define('WP_INSTALLING', true);
require $dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

// The installer asks the site itself whether pretty permalinks work, and mails the admin: neither here.
add_filter('pre_http_request', function () {
    return new WP_Error('http_request_blocked', 'no requests while installing');
}, 1);
add_filter('pre_wp_mail', '__return_false');

$installed = wp_install('samachar test site', $user, 'admin@example.invalid', false, '', wp_slash($password));
if (empty($installed['user_id'])) {
    fwrite(STDERR, "wp_install failed\n");
    exit(1);
}
update_option('permalink_structure', '/%postname%/');
update_option('blog_public', '0');

list($app_password) = WP_Application_Passwords::create_new_application_password(
    $installed['user_id'], array('name' => 'samachar'));

$reader_id = wp_insert_user(array(
    'user_login' => 'reader', 'user_pass' => wp_generate_password(24), 'role' => 'subscriber',
    'user_email' => 'reader@example.invalid',
));
if (is_wp_error($reader_id)) {
    fwrite(STDERR, 'cannot add the subscriber: ' . $reader_id->get_error_message() . "\n");
    exit(1);
}
list($reader_password) = WP_Application_Passwords::create_new_application_password(
    $reader_id, array('name' => 'samachar'));

echo json_encode(array(
    'user' => $user, 'password' => $app_password, 'reader' => 'reader', 'reader_password' => $reader_password,
)), "\n";
