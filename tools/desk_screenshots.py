"""Screenshots of every desk page, in Hindi and in English, for ``docs/screenshots/desk-<page>-<lang>.png``.

Builds a small demo home in a temporary folder (three fictional sources, published and held
articles whose QA found a lost number, a glossary, engine usage and runs), serves the site and
the desk on a loopback port, signs in as an admin through the real login form and captures
each page with Playwright on Debian's Chromium::

    .venv/bin/python tools/desk_screenshots.py            # writes docs/screenshots/desk-*.png
    .venv/bin/python tools/desk_screenshots.py --out /tmp/shots --browser /usr/bin/chromium

Nothing is fetched from the network; the texts are made up for the screenshots.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("login", "dashboard", "review", "entry", "sources", "source", "glossary", "targets", "users")
LANGS = ("hi", "en")
MAX_BYTES = 300 * 1024
ADMIN, PASSWORD = "arjun", "desk-demo-password"

STORIES = [  # (source index, title, first sentence, its Hindi, state)
    (0, "Monsoon reaches Kerala three days early", "The monsoon reached Kerala on 29 May, three days early.",
     "मानसून तीन दिन पहले केरल पहुँच गया।", "held"),
    (1, "City council approves 48 new buses", "The council approved 48 new electric buses on Tuesday.",
     "परिषद ने मंगलवार को नई इलेक्ट्रिक बसों को मंज़ूरी दी।", "held"),
    (2, "River levels fall after heavy rain", "River levels fell by 2 metres overnight.",
     "रात भर में नदी का जलस्तर 2 मीटर घटा।", "published"),
    (0, "New bridge opens to traffic", "The bridge, 1.2 km long, opened on Monday.",
     "1.2 किमी लंबा पुल सोमवार को खुला।", "published"),
    (1, "Schools reopen after the summer break", "Schools reopened on 1 July across the state.",
     "राज्य भर में स्कूल 1 जुलाई को फिर खुले।", "published"),
]
SOURCES = [("https://deccan-courier.example/feed.xml", "Deccan Courier"),
           ("https://harbour-times.example/atom.xml", "Harbour Times"),
           ("https://valley-ledger.example/feed.json", "Valley Ledger")]


def build_home(home: Path):
    """The demo store and config: sources, entries in several states, a glossary, usage and runs."""
    from samachar.config import Config, SiteConfig
    from samachar.model import Article, Block, EntryState, FeedEntry, Flag, PollOutcome, TranslatedArticle
    from samachar.sources.identity import entry_identity
    from samachar.store import Store
    from samachar.store.activity import finish_run, record_engine_usage, start_run
    from samachar.translate.document import EngineUsage

    config = Config(home=home, site=SiteConfig(language="hi", title="समाचार डेस्क डेमो",
                                               base_url="https://news.example.org/"),
                    targets=[{"kind": "wordpress", "name": "wp", "url": "https://wp.news.example.org",
                              "user": "desk", "password_env": "DEMO_WP_APP_PASSWORD", "category": "समाचार"}])
    store = Store(f"sqlite:///{home / 'samachar.db'}")
    now = datetime.now(UTC)
    ids = [store.sources.add(url, name=name, policy="full").id for url, name in SOURCES]
    for n, source in enumerate(ids):
        status = "error" if n == 2 else "ok"
        store.sources.record_poll(PollOutcome(source_id=source, status=status,
                                              next_poll_at=now + timedelta(minutes=15 + 10 * n),
                                              error="HTTP 503 from valley-ledger.example" if n == 2 else None,
                                              error_count=1 if n == 2 else 0), now - timedelta(minutes=5))
    for n, (source_index, title, sentence, hindi, state) in enumerate(STORIES):
        source = ids[source_index]
        item = FeedEntry(title=title, url=f"{SOURCES[source_index][0].rsplit('/', 1)[0]}/{n}", summary=sentence)
        [entry] = store.entries.add_many(source, [(item, entry_identity(item, source))])
        second = "Officials said more details would follow."
        article = Article(url=item.url, title=title, blocks=[Block("paragraph", f"{sentence} {second}")],
                          publisher=SOURCES[source_index][1], language="en")
        store.articles.save(entry, article)
        flags = []
        if state == "held":
            number = "29" if "29" in sentence else "48"
            flags = [Flag("numbers", "error", sentence, hindi, f"number {number} is missing in the translation", 0)]
        translated = TranslatedArticle(title=f"{hindi.split('।')[0][:40]}", blocks=[
            Block("paragraph", f"{hindi} अधिकारियों ने कहा कि और जानकारी बाद में दी जाएगी।")],
            source_lang="en", target_lang="hi", engine="indictrans2", flags=flags)
        if state == "held":
            from samachar.stages import review_reason

            store.translations.save(entry, translated, state=EntryState.HELD, reason=review_reason(translated))
        else:
            store.translations.save(entry, translated, state=EntryState.TRANSLATED)
            store.posts.publish(entry, "hi", title)
            store.publications.record_published(entry, "hi", "site", remote_id=str(entry),
                                                remote_url=f"https://news.example.org/articles/{entry}/",
                                                revision="demo")
            if n == 4:
                store.publications.record_failure(entry, "hi", "wp", "WordPress answered HTTP 503: try again later")
            else:
                store.publications.record_published(entry, "hi", "wp", remote_id=str(100 + n), revision="demo",
                                                    remote_url=f"https://wp.news.example.org/?p={100 + n}")
    failed = FeedEntry(title="Market report", url="https://valley-ledger.example/market")
    [entry] = store.entries.add_many(ids[2], [(failed, entry_identity(failed, ids[2]))])
    store.entries.set_state(entry, EntryState.FAILED, error="page not fetched: HTTP 404")
    store.sources.set_targets(ids[0], {"wp": {"category": "केरल"}})
    store.glossary.add("Lok Sabha", "लोकसभा", "hi")
    store.glossary.add("Kerala", "केरल", "hi")
    store.glossary.add("monsoon", "मानसून", "hi")
    for day in range(14):
        segments = 120 + (day * 37) % 90
        record_engine_usage(store.engine, {"indictrans2": EngineUsage(documents=segments // 12, segments=segments,
                                                                     characters=segments * 95,
                                                                     seconds=segments * 0.04)},
                            "en", "hi", now - timedelta(days=13 - day))
    run = start_run(store.engine, "run", now - timedelta(minutes=5))
    finish_run(store.engine, run, {"polled": 3, "new_entries": 6, "published": 3, "held": 2, "failed": 1},
               now - timedelta(minutes=4))
    return config, store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(app, port: int):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the desk did not start")
        time.sleep(0.05)
    return server, thread


def capture(base: str, out: Path, browser_path: str, entry_id: int, source_id: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    paths = {"dashboard": "/admin/", "review": "/admin/review", "entry": f"/admin/entries/{entry_id}",
             "sources": "/admin/sources", "source": f"/admin/sources/{source_id}", "glossary": "/admin/glossary",
             "targets": "/admin/targets", "users": "/admin/users"}
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path)
        try:
            for lang in LANGS:
                context = browser.new_context(viewport={"width": 1280, "height": 860}, locale=lang,
                                              extra_http_headers={"Accept-Language": lang})
                page = context.new_page()
                page.goto(base + "/admin/login")
                written.append(shot(page, out / f"desk-login-{lang}.png"))
                page.fill("input[name=username]", ADMIN)
                page.fill("input[name=password]", PASSWORD)
                page.click("form[action='/admin/login'] [type=submit]")
                page.wait_for_url(base + "/admin/")
                for name, path in paths.items():
                    page.goto(base + path)
                    written.append(shot(page, out / f"desk-{name}-{lang}.png"))
                context.close()
        finally:
            browser.close()
    return written


def shot(page, path: Path) -> Path:
    """The page as far down as fits under the size limit (the whole page when it does)."""
    page.evaluate("document.fonts.ready")
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), 2400)
    while True:
        page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1280, "height": height}, full_page=True)
        if path.stat().st_size <= MAX_BYTES or height <= 600:
            return path
        height = int(height * 0.8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--browser", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from samachar.service import SiteService

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="samachar-desk-") as folder:
        config, store = build_home(Path(folder))
        try:
            app = SiteService(store, config).create_app(admin=True)
            accounts = app.state.desk.accounts
            accounts.add_user(ADMIN, "admin", PASSWORD)
            accounts.add_user("meera", "editor", PASSWORD)
            held = [e.id for e in store.entries.list() if e.state == "held"]
            port = free_port()
            server, thread = serve(app, port)
            try:
                written = capture(f"http://127.0.0.1:{port}", args.out, args.browser, held[0],
                                  store.sources.list()[0].id)
            finally:
                server.should_exit = True
                thread.join(timeout=10)
        finally:
            store.close()
    for path in written:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
