"""Start a real WordPress (Debian's ``wordpress`` package) on 127.0.0.1, for tests and benchmarks.

Nothing is installed system-wide and nothing listens beyond loopback:

* the ``.deb``\\ s (``apt-get download wordpress wordpress-theme-twentytwentythree``, kept in
  ``$SAMACHAR_WORDPRESS_DEBS``, else ``~/.cache/samachar/wordpress-debs``) are extracted into the
  site's folder; ``apt-get install wordpress`` would pull in Apache and start it on port 80;
* a private MariaDB (``mariadb-install-db``/``mariadbd --no-defaults --skip-networking``) listens
  on a socket in that folder;
* WordPress is installed from PHP (``install.php``: Debian ships no wp-cli), with
  ``WP_ENVIRONMENT_TYPE = 'local'`` so that Application Passwords work over plain http;
* ``php -S`` serves it through ``router.php`` with ``PHP_CLI_SERVER_WORKERS`` workers.

Each server runs in a process group of its own (``setsid``): ``php -S``'s workers outlive
their parent, so :meth:`WordPress.stop` signals the whole group.

Needs ``php-cli php-mysql php-gd php-mbstring php-getid3 libjs-cropper libjs-underscore
mariadb-server``. Run by hand::

    python tools/wordpress/start_wordpress.py /tmp/wp    # prints the URL and credentials, serves until Ctrl-C
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEB_PACKAGES = ("wordpress", "wordpress-theme-twentytwentythree")
APT_PACKAGES = ("php-cli", "php-mysql", "php-gd", "php-mbstring", "php-getid3", "libjs-cropper",
                "libjs-underscore", "mariadb-server")
PHP_MODULES = ("mysqli", "gd", "mbstring")
ADMIN = "samachar"
INSTALLED_AT = "/usr/share/wordpress"  # where the package's relative symlinks expect to be
START_TIMEOUT = 60.0


class Unavailable(RuntimeError):
    """WordPress cannot be started here: a package or program is missing (the message says which)."""


@dataclass
class WordPress:
    """A running site: its address, its administrator's Application Password, its folder."""

    url: str
    user: str
    password: str  # an Application Password of the administrator
    reader: str  # a subscriber (may not write posts)
    reader_password: str
    folder: Path
    servers: list[subprocess.Popen] = field(default_factory=list)  # each leads a process group

    @property
    def requests_log(self) -> Path:
        return self.folder / "requests.log"

    def requests(self) -> list[str]:
        """Every request so far, ``"METHOD URI"`` as it arrived (``done …`` lines left out)."""
        if not self.requests_log.exists():
            return []
        return [line for line in self.requests_log.read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("done ")]

    def answers(self) -> list[str]:
        """``"METHOD URI STATUS"`` for each request WordPress has finished."""
        if not self.requests_log.exists():
            return []
        return [line[5:] for line in self.requests_log.read_text(encoding="utf-8").splitlines()
                if line.startswith("done ")]

    def control(self, **settings: object) -> None:
        """Set the router's test hooks (see router.php); no arguments clears them."""
        path = self.folder / "control.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(settings), encoding="utf-8")
        tmp.replace(path)

    def stop(self) -> None:
        """Stop php -S (its workers too) and MariaDB: each server's whole process group."""
        for server in reversed(self.servers):
            _signal_group(server.pid, signal.SIGTERM)
        for server in reversed(self.servers):
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(server.pid, signal.SIGKILL)  # workers left behind
            server.wait()
        self.servers.clear()


def debs_dir() -> Path:
    configured = os.environ.get("SAMACHAR_WORDPRESS_DEBS")
    return Path(configured) if configured else Path.home() / ".cache" / "samachar" / "wordpress-debs"


def find_debs(folder: Path, *, download: bool = True) -> list[Path]:
    """The two ``.deb`` files, downloaded with ``apt-get download`` into ``folder`` when missing."""
    def present() -> list[Path]:
        return [found[-1] for name in DEB_PACKAGES if (found := sorted(folder.glob(f"{name}_*.deb")))]

    debs = present()
    if len(debs) < len(DEB_PACKAGES) and download and shutil.which("apt-get"):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "-qq", *DEB_PACKAGES], cwd=folder, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        debs = present()
    if len(debs) < len(DEB_PACKAGES):
        raise Unavailable(f"no {' and '.join(DEB_PACKAGES)} .deb in {folder}: run "
                          f"'cd {folder} && apt-get download {' '.join(DEB_PACKAGES)}'")
    return debs


def check_programs() -> dict[str, str]:
    """Paths of the programs needed; Unavailable naming the Debian packages when one is missing."""
    programs = {name: shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
                for name in ("php", "mariadbd", "mariadb-install-db", "mariadb", "dpkg-deb")}
    missing = [name for name, path in programs.items() if path is None]
    if not missing:
        modules = subprocess.run([programs["php"], "-m"], capture_output=True, text=True, check=False).stdout.lower()
        missing = [f"php module {m}" for m in PHP_MODULES if m not in modules.split()]
    if missing:
        raise Unavailable(f"missing {', '.join(missing)}: apt-get install {' '.join(APT_PACKAGES)}")
    return {name: str(path) for name, path in programs.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(folder: Path, *, test_hooks: bool = False, workers: int = 4, debs: Path | None = None) -> WordPress:
    """A fresh WordPress in ``folder`` (created; emptied of an earlier site), serving on a free port."""
    programs = check_programs()
    packages = find_debs(debs or debs_dir())
    folder = Path(folder).resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    wordpress = _extract(programs, packages, folder)
    site = WordPress(url="", user=ADMIN, password="", reader="", reader_password="", folder=folder)
    try:
        socket_path = _start_database(programs, folder, site)
        port = free_port()
        site.url = f"http://127.0.0.1:{port}"
        _write_config(wordpress, socket_path, site.url)
        if test_hooks:
            mu_plugins = wordpress / "wp-content" / "mu-plugins"
            mu_plugins.mkdir(parents=True, exist_ok=True)
            shutil.copy(HERE / "samachar-test-hooks.php", mu_plugins)
        admin_password = secrets.token_urlsafe(18)
        installed = subprocess.run([programs["php"], str(HERE / "install.php"), str(wordpress), site.url, ADMIN,
                                    admin_password], check=False, capture_output=True, text=True,
                                   timeout=START_TIMEOUT)
        if installed.returncode != 0:
            raise RuntimeError(f"installing WordPress failed: {(installed.stderr or installed.stdout).strip()[-500:]}")
        credentials = json.loads(installed.stdout.strip().splitlines()[-1])
        site.password, site.reader, site.reader_password = (credentials["password"], credentials["reader"],
                                                            credentials["reader_password"])
        _serve(programs, wordpress, folder, port, site, test_hooks=test_hooks, workers=workers)
    except BaseException:
        site.stop()
        raise
    return site


def _extract(programs: dict[str, str], debs: list[Path], folder: Path) -> Path:
    """The packages' files under ``folder/root``; their symlinks made to work from there."""
    root = folder / "root"
    for deb in debs:
        subprocess.run([programs["dpkg-deb"], "-x", str(deb), str(root)], check=True, capture_output=True)
    wordpress = root / INSTALLED_AT.lstrip("/")
    for link in list(wordpress.rglob("*")):
        if not link.is_symlink():
            continue
        target = os.readlink(link)
        installed = Path(INSTALLED_AT) / link.relative_to(wordpress)
        absolute = Path(os.path.normpath(installed.parent / target))  # where it points once installed
        if absolute.is_relative_to(INSTALLED_AT):  # inside the package: point into our copy
            absolute = wordpress / absolute.relative_to(INSTALLED_AT)
        link.unlink()
        if link.name == ".htaccess":
            continue  # Apache's; php -S reads none
        link.symlink_to(absolute)
    (wordpress / "wp-content" / "uploads").mkdir(parents=True, exist_ok=True)
    return wordpress


def _start_database(programs: dict[str, str], folder: Path, site: WordPress) -> str:
    data, socket_path = folder / "db", folder / "db.sock"
    small = ["--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M",
             "--innodb-data-file-path=ibdata1:4M:autoextend"]
    as_user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run([programs["mariadb-install-db"], "--no-defaults", f"--datadir={data}", *as_user,
                    "--auth-root-authentication-method=normal", "--skip-test-db", *small],
                   check=True, capture_output=True, timeout=START_TIMEOUT)
    with open(folder / "mariadb.log", "ab") as log:
        server = subprocess.Popen(
            [programs["mariadbd"], "--no-defaults", f"--datadir={data}", f"--socket={socket_path}",
             "--skip-networking", f"--pid-file={folder / 'db.pid'}", *as_user, *small, "--skip-log-bin",
             "--innodb-flush-log-at-trx-commit=2"],
            stdout=log, stderr=log, start_new_session=True)
    site.servers.append(server)
    _wait(lambda: socket_path.exists() or server.poll() is not None, "MariaDB to start")
    if server.poll() is not None:
        raise RuntimeError(f"MariaDB did not start: see {folder / 'mariadb.log'}")
    subprocess.run([programs["mariadb"], "--no-defaults", f"--socket={socket_path}", "-uroot",
                    "-e", "CREATE DATABASE wordpress CHARACTER SET utf8mb4"], check=True, capture_output=True)
    return str(socket_path)


def _write_config(wordpress: Path, socket_path: str, url: str) -> None:
    """Our own wp-config.php (Debian's looks for /etc/wordpress/config-HOST.php)."""
    def define(name: str, value: object) -> str:
        return f"define({json.dumps(name)}, {json.dumps(value)});"

    keys = [define(name, secrets.token_hex(32)) for name in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
        "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")]
    lines = [
        "<?php",
        "// Written by samachar's tools/wordpress/start_wordpress.py: a throwaway site on loopback.",
        define("DB_NAME", "wordpress"), define("DB_USER", "root"), define("DB_PASSWORD", ""),
        define("DB_HOST", f"localhost:{socket_path}"), define("DB_CHARSET", "utf8mb4"), define("DB_COLLATE", ""),
        *keys,
        define("WP_HOME", url), define("WP_SITEURL", url),
        define("WP_ENVIRONMENT_TYPE", "local"),  # Application Passwords over plain http
        define("WP_HTTP_BLOCK_EXTERNAL", True), define("DISABLE_WP_CRON", True),
        define("AUTOMATIC_UPDATER_DISABLED", True), define("WP_AUTO_UPDATE_CORE", False),
        define("WP_DEBUG", False), define("WP_DEBUG_DISPLAY", False),  # clean JSON answers
        define("WP_CONTENT_DIR", str(wordpress / "wp-content")),
        "$table_prefix = 'wp_';",
        f"if (!defined('ABSPATH')) {{ define('ABSPATH', {json.dumps(str(wordpress) + '/')}); }}",
        "require_once ABSPATH . 'wp-settings.php';",
    ]
    (wordpress / "wp-config.php").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _serve(programs: dict[str, str], wordpress: Path, folder: Path, port: int, site: WordPress, *,
           test_hooks: bool, workers: int) -> None:
    env = {**os.environ, "PHP_CLI_SERVER_WORKERS": str(max(1, workers)), "SAMACHAR_WP_SITE": str(folder),
           "SAMACHAR_WP_TEST_HOOKS": "1" if test_hooks else "0"}
    with open(folder / "php.log", "ab") as log:
        server = subprocess.Popen(
            [programs["php"], "-d", "upload_max_filesize=32M", "-d", "post_max_size=32M", "-d", "memory_limit=256M",
             "-d", "display_errors=0", "-d", "log_errors=1", "-d", f"error_log={folder / 'php-errors.log'}",
             "-S", f"127.0.0.1:{port}", "-t", str(wordpress), str(HERE / "router.php")],
            stdout=log, stderr=log, env=env, cwd=wordpress, start_new_session=True)
    site.servers.append(server)

    def answers() -> bool:
        if server.poll() is not None:
            return True
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    _wait(answers, "php -S to listen")
    if server.poll() is not None:
        raise RuntimeError(f"php -S did not start: see {folder / 'php.log'}")


def _wait(done, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _signal_group(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: start_wordpress.py FOLDER", file=sys.stderr)
        return 2
    try:
        site = start(Path(argv[0]))
    except Unavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"url": site.url, "user": site.user, "password": site.password}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
