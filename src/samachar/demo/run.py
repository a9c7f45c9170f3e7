"""``samachar demo``: the main job, offline, on the bundled sample sources.

Serves the samples from a loopback server, follows them as sources, runs every
stage, builds the site and (unless ``--build-only``) serves it. Hindi when an
en→hi engine is installed, otherwise Spanish through Apertium.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from samachar.config import CONFIG_NAME, Config, load_config, write_config
from samachar.errors import SamacharError
from samachar.progress import Progress

log = logging.getLogger("samachar.demo")
DEMO_MARKER = "# samachar demo site"
SOURCE_LANGUAGE = "en"
SAMPLES_PORT = 8741  # stable, so that sample URLs (and their images) stay the same from run to run


def choose_language(models_dir: Path) -> tuple[str, str]:
    """Hindi when an en→hi engine is installed, else Spanish (Apertium); with the engine's name."""
    from samachar.translate.select import resolve_engine

    for target in ("hi", "es"):
        try:
            engine = resolve_engine(["auto"], SOURCE_LANGUAGE, target, models_dir=models_dir)
        except SamacharError:
            continue
        return target, engine.name
    raise SamacharError("no engine translates en→hi or en→es; install Apertium: apt-get install apertium apertium-eng-spa")


def prepare_home(config: Config, language: str) -> Config:
    """Write the demo's own config, refusing to take over a real site's home."""
    path = config.home / CONFIG_NAME
    if path.exists() and DEMO_MARKER not in path.read_text(encoding="utf-8"):
        raise SamacharError(f"{config.home} already holds a site; run the demo in another home, "
                            f"e.g. SAMACHAR_HOME=/tmp/samachar-demo samachar demo")
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
                store.sources.set_url(existing[path].id, url)
        else:
            store.sources.add(url, policy="full")
    # Every demo run polls every sample feed, so a rerun shows deduplication at work.
    store.sources.schedule_now()


def run_demo(config: Config, *, build_only: bool = False, out: Path | None = None, host: str = "127.0.0.1",
             port: int = 8000, quiet: bool = False) -> int:
    from samachar.demo.server import SampleServer
    from samachar.pipeline import Pipeline
    from samachar.store import Store

    config.home.mkdir(parents=True, exist_ok=True)
    language, engine = choose_language(config.models_dir)
    config = prepare_home(config, language)
    names = {"hi": "Hindi", "es": "Spanish"}
    if language == "hi":
        print(f"demo: translating English → Hindi with {engine}")
    else:
        print(f"demo: no en→hi engine installed, translating English → Spanish with {engine} "
              "(import an en→hi model with 'samachar models import' for Hindi)")
    store = Store(config.db_url)
    pipeline = Pipeline(store, config, progress=Progress(enabled=not quiet), allow_private=True)
    from samachar.runlock import run_lock

    samples = _start_samples(SampleServer)
    try:
        follow_samples(store, samples.base_url)
        with run_lock(config.home):
            report = pipeline.run_once()
        site_dir = out or config.site_dir
        pages = pipeline.build_site(site_dir)
        print(f"demo: {report.summary()}")
        for reason in report.waiting:
            print(f"demo: waiting: {reason}")
        print(f"demo: {store.posts.count(language)} articles in {names.get(language, language)}; "
              f"site written to {site_dir} ({pages} files)")
        if build_only:
            return 0
        import uvicorn

        # The sample publishers stay up too, so the "read the original" links and images work.
        app = pipeline.create_app()
        print(f"demo: serving the site at http://{host}:{port}/ (Ctrl-C to stop)")
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return 0
    finally:
        samples.stop()
        store.close()


def _start_samples(server_class):
    """The sample publishers on their usual port, or any free one if it is taken."""
    try:
        server = server_class(port=SAMPLES_PORT)
        server.start()
    except OSError:
        server = server_class(port=0)
        server.start()
    return server
