"""``samachar demo``: the main job, offline, on the bundled sample sources.

Serves the samples from a loopback server, follows them as sources, runs every
stage, builds the site and (unless ``--build-only``) serves it.

The language, in order of preference:

1. Hindi, when an en→hi engine is installed in the demo's home;
2. Hindi, after installing the en→hi package from the model index, when the
   index answers within :data:`INDEX_DEADLINE` seconds (the download shows progress);
3. Spanish through Apertium, with one line saying why not Hindi and how to get it.

The demo keeps a home of its own (:func:`demo_home`) unless one is given with
``--home`` or ``$SAMACHAR_HOME``: it never writes the operator's default home.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

from samachar.config import CONFIG_NAME, Config, home_dir, load_config, write_config
from samachar.errors import RuntimeMissing, SamacharError
from samachar.progress import Progress

log = logging.getLogger("samachar.demo")
DEMO_MARKER = "# samachar demo site"
SOURCE_LANGUAGE = "en"
SAMPLES_PORT = 8741  # preferred, so that sample URLs stay the same from run to run; any free one otherwise
INDEX_DEADLINE = 5.0  # seconds the model index has to answer before the demo goes on without it
HINDI_HOWTO = ("for Hindi, run 'samachar models install en hi' (online) or import a package with "
               "'samachar models import FILE' (README: \"Hindi in five minutes\")")


def demo_home(explicit: Path | None) -> Path:
    """The demo's home: the one given, else a folder beside the default home, never the default home itself."""
    if explicit is not None:
        return explicit
    return home_dir().parent / "samachar-demo"


def _find_engine(target: str, models_dir: Path):
    from samachar.translate.select import resolve_engine

    return resolve_engine(["auto"], SOURCE_LANGUAGE, target, models_dir=models_dir)


def install_hindi(models_dir: Path, *, deadline: float = INDEX_DEADLINE, show_progress: bool = True) -> str | None:
    """Install the en→hi package from the model index; ``None`` when done, else why not (one line).

    The index must answer within ``deadline`` seconds (DNS included, so it runs in a
    thread): offline, the demo goes on at once. A download that started is shown
    with a progress bar and allowed to finish.
    """
    from samachar.models.argos_index import fetch_index, index_url, install_model

    answer: dict = {}

    def ask() -> None:
        try:
            answer["index"] = fetch_index(timeout=deadline + 30)  # the deadline below decides, not the socket
        except SamacharError as exc:
            answer["error"] = str(exc)

    worker = threading.Thread(target=ask, name="model-index", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        return f"the model index {index_url()} did not answer within {deadline:g} s"
    if "error" in answer:
        return answer["error"]
    try:
        install_model(SOURCE_LANGUAGE, "hi", models_dir, index=answer["index"], show_progress=show_progress)
    except SamacharError as exc:
        return str(exc)
    return None


def choose_language(models_dir: Path, *, install: bool = True, quiet: bool = False) -> tuple[str, str, str | None]:
    """(language, engine name, why not Hindi): Hindi when it can be had, else Spanish through Apertium."""
    why_not: str | None = None
    try:
        return "hi", _find_engine("hi", models_dir).name, None
    except RuntimeMissing as exc:
        why_not = str(exc)  # installing another model would not help
    except SamacharError:
        if not install:
            why_not = "no en→hi model is installed and --no-install was given"
        else:
            if not quiet:
                print(f"demo: no en→hi model installed; asking the model index ({INDEX_DEADLINE:g} s at most)")
            why_not = install_hindi(models_dir, show_progress=not quiet)
            if why_not is None:
                try:
                    return "hi", _find_engine("hi", models_dir).name, None
                except SamacharError as exc:
                    why_not = f"the installed en→hi package cannot be used: {exc}"
    try:
        return "es", _find_engine("es", models_dir).name, why_not
    except SamacharError:
        raise SamacharError(f"no engine translates en→hi ({why_not}) or en→es; install Apertium: "
                            "apt-get install apertium apertium-eng-spa") from None


def prepare_home(config: Config, language: str) -> Config:
    """Write the demo's own config (marked as the demo's) when it is new or its language changes."""
    path = config.home / CONFIG_NAME
    if not path.exists() or load_config(config.home).site.language != language:
        write_config(config.home, language=language, engines=["auto"], base_url="http://127.0.0.1:8000/")
        path.write_text(DEMO_MARKER + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return load_config(config.home)


def follow_samples(store, base_url: str) -> None:
    """Add the sample feeds as sources; on later runs, point them at this run's server."""
    from samachar.demo import feed_paths

    existing = {urlsplit(s.url).path: s for s in store.sources.list()
                if urlsplit(s.url).hostname in ("127.0.0.1", "localhost")}
    for path in feed_paths():
        url = base_url.rstrip("/") + path
        if path in existing:
            if existing[path].url != url:
                # The samples moved (their usual port was taken): their entries move with them,
                # or the next poll would read every moved link as a new story.
                old = urlsplit(existing[path].url)
                store.entries.move_site(f"{old.scheme}://{old.netloc}", base_url)
                store.sources.set_url(existing[path].id, url)
        else:
            store.sources.add(url, policy="full")
    # Every demo run polls every sample feed, so a rerun shows deduplication at work.
    store.sources.schedule_now()


def run_demo(explicit_home: Path | None = None, *, build_only: bool = False, out: Path | None = None,
             host: str = "127.0.0.1", port: int | None = None, quiet: bool = False, install: bool = True) -> int:
    from samachar.demo.server import SampleServer
    from samachar.pipeline import Pipeline
    from samachar.service import SiteService
    from samachar.store import Store

    home = demo_home(explicit_home)
    config = _demo_config(home)
    print(f"demo: home {home}" + ("" if explicit_home else " (the demo's own; your default home is left alone)"))
    language, engine, why_not = choose_language(config.models_dir, install=install, quiet=quiet)
    config = prepare_home(config, language)
    names = {"hi": "Hindi", "es": "Spanish"}
    if language == "hi":
        print(f"demo: translating English → Hindi with {engine}")
    else:
        print(f"demo: translating English → Spanish with {engine}: no Hindi because {why_not}; {HINDI_HOWTO}")
    store = Store(config.db_url)
    pipeline = Pipeline(store, config, progress=Progress(enabled=not quiet), allow_private=True)
    service = SiteService(store, config)
    from samachar.runlock import run_lock

    samples = _start_samples(SampleServer)
    try:
        follow_samples(store, samples.base_url)
        with run_lock(config.home):
            report = pipeline.run_once()
        site_dir = out or config.site_dir
        pages = service.build(site_dir)
        print(f"demo: {report.summary()}")
        for reason in report.waiting:
            print(f"demo: waiting: {reason}")
        for line in report.unexpected_lines():
            print(f"demo: unexpected: {line}")
        print(f"demo: {store.posts.count(language)} articles in {names.get(language, language)}; "
              f"site written to {site_dir} ({pages} files)")
        if build_only:
            return 0
        import uvicorn

        # The sample publishers stay up too, so the "read the original" links work.
        app = service.create_app()
        chosen = port if port is not None else _free_port(host, 8000)
        note = "" if port is not None or chosen == 8000 else " (port 8000 is taken)"
        print(f"demo: serving the site at http://{host}:{chosen}/{note} (Ctrl-C to stop)")
        uvicorn.run(app, host=host, port=chosen, log_level="warning")
        return 0
    finally:
        samples.stop()
        store.close()


def _demo_config(home: Path) -> Config:
    """The demo home's config; a home that holds a real site is refused before anything is written."""
    path = home / CONFIG_NAME
    if path.exists() and DEMO_MARKER not in path.read_text(encoding="utf-8"):
        raise SamacharError(f"{home} already holds a site; run the demo in another home, "
                            f"e.g. samachar demo --home /tmp/samachar-demo")
    home.mkdir(parents=True, exist_ok=True)
    return load_config(home)


def _free_port(host: str, preferred: int) -> int:
    """``preferred`` when nothing listens there, else a free port the system picks."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in (preferred, 0):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    return preferred


def _start_samples(server_class):
    """The sample publishers on their usual port, or any free one if it is taken."""
    try:
        server = server_class(port=SAMPLES_PORT)
        server.start()
    except OSError:
        server = server_class(port=0)
        server.start()
    return server
