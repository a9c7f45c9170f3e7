<?php
/*
 * Plugin Name: samachar test hooks
 * Description: Switches the REST API off when the test router's control.json says "rest_off", or only
 *   its Link header when it says "strip_link"; takes SVG uploads, as a site with an SVG plugin does,
 *   when it says "allow_svg"; offers no Application Passwords, as a site on plain http that is not
 *   'local' does, when it says "app_passwords_off".
 *   Installed only in the throwaway sites that samachar's tests start (tools/wordpress/start_wordpress.py).
 */

if (!empty($GLOBALS['samachar_test_control']['rest_off'])) {
    remove_action('init', 'rest_api_init');
    remove_action('parse_request', 'rest_api_loaded');
    remove_action('template_redirect', 'rest_output_link_header', 11);
    remove_action('wp_head', 'rest_output_link_wp_head', 10);
}
if (!empty($GLOBALS['samachar_test_control']['strip_link'])) {
    remove_action('template_redirect', 'rest_output_link_header', 11);
}
if (!empty($GLOBALS['samachar_test_control']['allow_svg'])) {
    add_filter('upload_mimes', function ($types) {
        $types['svg'] = 'image/svg+xml';
        return $types;
    });
}
if (!empty($GLOBALS['samachar_test_control']['app_passwords_off'])) {
    add_filter('wp_is_application_passwords_available', '__return_false');
}
