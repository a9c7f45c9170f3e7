"""Follow news feeds, translate their articles and republish them on your own site, crediting each publisher.

The ``samachar`` command: every subcommand is a thin shell around a stage,
the pipeline or the site service (:mod:`samachar.service`). Errors that
samachar raises on purpose print as one line (``error: …``) with exit status
2; a run that merely records per-source or per-entry failures exits 0. The first line above is the ``--help``
description, so it stays plain text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from samachar.config import (
    Config,
    home_dir,
    http_url_problem,
    load_config,
    write_config,
)
from samachar.errors import SamacharError
from samachar.model import EntryState, blocks_to_html
from samachar.progress import Progress

log = logging.getLogger("samachar")


def _store(config: Config):
    from samachar.store import Store

    config.home.mkdir(parents=True, exist_ok=True)
    return Store(config.db_url)


def _pipeline(config: Config, args, **kwargs):
    from samachar.pipeline import Pipeline

    return Pipeline(_store(config), config, progress=Progress(enabled=not args.quiet), **kwargs)


def _service(config: Config):
    from samachar.service import SiteService

    return SiteService(_store(config), config)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# -- init -----------------------------------------------------------------------------------------

def cmd_init(args, config: Config) -> int:
    from samachar.config import CONFIG_NAME, check_language
    from samachar.translate.engine import available_engines

    check_language(args.language)
    if args.engine and ":" not in args.engine and args.engine != "auto" and args.engine not in available_engines():
        names = ", ".join(sorted(available_engines()))
        raise SamacharError(f"unknown engine {args.engine!r}; installed engines: auto, {names}")
    if (config.home / CONFIG_NAME).exists() and not args.force:
        raise SamacharError(f"{config.home / CONFIG_NAME} exists; use --force to overwrite it")
    base_url = _base_url(args.base_url)
    engines = [args.engine] if args.engine else None
    path = write_config(config.home, language=args.language, engines=engines, title=args.title,
                        source_language=args.source_language, base_url=base_url)
    _store(load_config(config.home)).close()
    print(f"created {path} (site language {args.language}); add sources with 'samachar source add URL'")
    if not base_url:
        print(f"feeds will use http://localhost:8000/ until [site] base_url is set in {path}")
    return 0


def _base_url(given: str | None) -> str:
    """The site's public address: the flag, else asked on a terminal, else none for now."""
    url = given
    if url is None and sys.stdin.isatty() and sys.stdout.isatty():  # a person, not a script, is at the keyboard
        try:
            url = input("Address the site will be published at (e.g. https://news.example.org/; "
                        "Enter to set it later): ")
        except EOFError:
            url = ""
    url = (url or "").strip()
    problem = http_url_problem(url) if url else None
    if problem:
        raise SamacharError(f"--base-url {url!r}: {problem}; give the site's absolute address, "
                            "e.g. https://news.example.org/")
    return url


# -- sources --------------------------------------------------------------------------------------

def _source_changes(args) -> dict:
    """The fields ``source add`` was asked to set."""
    given = {"name": args.name, "policy": args.policy, "language": args.language,
             "interval_minutes": args.interval, "seo": args.seo, "stories_mode": args.stories}
    return {k: v for k, v in given.items() if v is not None}


def cmd_source_add(args, config: Config) -> int:
    from samachar.sources.manage import DiscoveryFailed, add_source

    try:
        added = add_source(_store(config), config, args.url, discover=not args.no_discover, **_source_changes(args))
    except DiscoveryFailed as exc:
        raise SamacharError(f"{exc} (use --no-discover to add it as it is)") from exc
    print(added.message())
    return 0


def _source_json(s) -> dict:
    return {"id": s.id, "url": s.url, "name": s.display_name, "entries": s.entries,
            "status": "error" if s.status in ("error", "gone") else "ok", "state": s.status, "error": s.error,
            "policy": s.policy, "seo": s.seo, "language": s.language, "last_polled_at": _iso(s.last_polled_at),
            "next_poll_at": _iso(s.next_poll_at), "error_count": s.error_count, "filters": s.filters or {}}


def cmd_source_list(args, config: Config) -> int:
    sources = _store(config).sources.list()
    if args.json:
        _print_json([_source_json(s) for s in sources])
        return 0
    if not sources:
        print("no sources; add one with 'samachar source add URL'")
        return 0
    print(f"{'ID':>4}  {'ENTRIES':>7}  {'STATE':<5}  NAME")
    for s in sources:
        reason = f"  ({s.error})" if s.error else ""
        print(f"{s.id:>4}  {s.entries:>7}  {s.status:<5}  {s.display_name}{reason}")
    return 0


def _known_source(store, wanted: str):
    from samachar.sources.manage import find_source

    return find_source(store, wanted)


def cmd_source_remove(args, config: Config) -> int:
    from samachar.sources.manage import remove_source

    source = remove_source(_store(config), args.source)
    print(f"removed source {source.id} ({source.display_name}); its entries are kept")
    return 0


def cmd_source_filter(args, config: Config) -> int:
    from samachar.filters import FilterRules, check_rules, describe

    service = _service(config)
    source = _known_source(service.store, args.source)
    given = check_rules(FilterRules(
        include=args.include or [], exclude=args.exclude or [], include_re=args.include_re or [],
        exclude_re=args.exclude_re or [], categories=args.category or [],
        exclude_categories=args.exclude_category or [], min_words=args.min_words, max_age_days=args.max_age_days))
    current = FilterRules() if args.clear else _stored_rules(source)
    changed = args.clear or not given.is_empty()
    rules = service.set_filters(source, current.with_changes(given)) if changed else current
    lines = describe(rules)
    print(f"source {source.id} ({source.display_name}): " + ("no filters" if not lines else "filters"))
    for line in lines:
        print(f"  {line}")
    if changed and lines:
        print("they apply to entries extracted from now on and to those waiting for translation")
    return 0


def _stored_rules(source):
    """The source's stored filters; stored ones that no longer check out are said as such, in one line."""
    from samachar.filters import FilterRules

    try:
        return FilterRules.from_json(source.filters)
    except SamacharError as exc:
        raise SamacharError(f"the stored filters of source {source.id} are unusable ({exc}); "
                            f"replace them with 'samachar source filter {source.id} --clear …'") from None


def cmd_source_import_opml(args, config: Config) -> int:
    from samachar.sources.manage import import_opml

    path = Path(args.file)
    if not path.is_file():
        raise SamacharError(f"{args.file}: no such file")
    count = import_opml(_store(config), path.read_bytes())
    print(f"imported {count} sources from {args.file}")
    return 0


def cmd_source_export_opml(args, config: Config) -> int:
    from samachar.sources.manage import export_opml

    sys.stdout.write(export_opml(_store(config)))
    return 0


# -- polling and runs -----------------------------------------------------------------------------

def cmd_poll(args, config: Config) -> int:
    from samachar.runlock import run_lock

    pipeline = _pipeline(config, args)
    with run_lock(config.home):  # before anything changes: a refused run leaves the schedule as it was
        if args.all:
            pipeline.store.sources.schedule_now()
        report = pipeline.poll()
    print(f"polled {report.polled} sources: {report.new_entries} new entries, {report.poll_errors} errors")
    return 0


def cmd_entry_list(args, config: Config) -> int:
    from samachar.stories.cli import stories_of

    store = _store(config)
    states = (args.state,) if args.state else None
    rows = store.entries.list(source_url=args.source, states=states, limit=args.limit)
    if args.json:
        records = store.publications.for_entries([e.id for e in rows])
        story = stories_of(store, [e.id for e in rows])
        _print_json([{"id": e.id, "title": e.title, "url": e.url, "source_url": e.source_url,
                      "published": _iso(e.published), "state": e.state, "error": e.error, "note": e.note,
                      "story": story.get(e.id),
                      "targets": {p.target: {"state": p.state, "url": p.remote_url, "error": p.error}
                                  for p in records[e.id]}}
                     for e in rows])
        return 0
    for e in rows:
        reason = f"  — {e.error}" if e.error else ""
        print(f"{e.id:>5}  {e.state:<10}  {e.title[:80]}{reason}")
    return 0


def _known_entry(store, entry_id: int):
    entry = store.entries.get(entry_id)
    if entry is None:
        raise SamacharError(f"no entry {entry_id}; see 'samachar entry list'")
    return entry


def cmd_entry_show(args, config: Config) -> int:
    from samachar.editorial import entry_view

    store = _store(config)
    view = entry_view(store, config, _known_entry(store, args.id))
    if args.json:
        _print_json(view)
    else:
        _print_entry(view)
    return 0


def _print_entry(view: dict) -> None:
    """The entry for a reader in a terminal: metadata, the text both ways with flags, history."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    marks = {"error": "[bold red]✗ error[/]", "warning": "[yellow]! warning[/]"}

    def flag_line(flag: dict) -> str:
        mark = marks.get(flag["severity"], escape(flag["severity"]))
        return f"    {mark} {escape(flag['check'])}: {escape(flag['message'])}"

    console.print(f"[bold]{escape(view['title'] or '(no title)')}[/]")
    reason = f" — {escape(view['error'])}" if view["error"] else ""
    console.print(f"entry {view['id']} · [bold]{view['state']}[/]{reason}")
    if view["source"]:
        console.print(f"source: {escape(view['source']['name'])} (source {view['source']['id']})")
    for label, key in (("original", "original_url"), ("published", "published"), ("note", "note")):
        if view[key]:
            console.print(f"{label}: {escape(str(view[key]))}")
    if view["engine"]:
        console.print(f"translated: {view['source_language']} → {view['target_language']} by "
                      f"{escape(view['engine'])}")
    if not view["segments"]:
        console.print("\n(not extracted yet: no text to show)")
    block = object()
    for segment in view["segments"]:
        if segment["block"] != block:
            block = segment["block"]
            console.print("\n[dim]title[/]" if block is None else "")
        console.print(f"  [dim]{view['source_language'] or 'src'}[/]  {escape(segment['source'])}")
        if segment["target"] is not None:
            console.print(f"  [dim]{view['target_language']}[/]  {escape(segment['target'])}")
        for flag in segment["flags"]:
            console.print(flag_line(flag))
    if view["flags"]:
        console.print("\n[bold]other flags[/]")
        for flag in view["flags"]:
            console.print(flag_line(flag) + f" [dim]({escape(flag['source'])})[/]")
    console.print("\n[bold]history[/]")
    for event in view["history"]:
        reason = f"  {escape(event['reason'])}" if event["reason"] else ""
        console.print(f"  {event['at'][:19].replace('T', ' ')}  {event['state']:<10} attempt {event['attempt']}"
                      f"{reason}")


def cmd_entry_approve(args, config: Config) -> int:
    service = _service(config)
    entry = _known_entry(service.store, args.id)
    if not service.approve(args.id):
        raise SamacharError(f"entry {args.id} is {entry.state}, not held for review")
    print(f"entry {args.id} approved; it is published on the next run")
    return 0


def cmd_entry_release(args, config: Config) -> int:
    service = _service(config)
    entry = _known_entry(service.store, args.id)
    if not service.release(args.id):
        raise SamacharError(f"entry {args.id} is {entry.state}, not filtered")
    print(f"entry {args.id} released from its source's filters; it is translated on the next run")
    return 0


def cmd_entry_delete(args, config: Config) -> int:
    if not _service(config).delete(args.id):  # a site built in the home is rebuilt without it
        raise SamacharError(f"no entry {args.id}; see 'samachar entry list'")
    print(f"entry {args.id} deleted; it stays remembered so that it is never imported again")
    return 0


def cmd_entry_retry(args, config: Config) -> int:
    service = _service(config)
    for entry_id in args.ids:
        _known_entry(service.store, entry_id)
    ids = args.ids or [e.id for e in service.store.entries.list(states=(EntryState.FAILED,))]
    retried = [(i, service.retry(i)) for i in ids]
    for entry_id, state in retried:
        print(f"entry {entry_id}: " + (f"back to {state}; it moves on at the next run" if state
                                        else "not failed or held; unchanged"))
    if not retried:
        print("no failed entries")
    return 0


def cmd_worker(args, config: Config) -> int:
    """One worker of many on a shared PostgreSQL database (see samachar.worker)."""
    from contextlib import nullcontext

    from samachar.runlock import run_lock
    from samachar.store.leases import lease_owner
    from samachar.worker import Worker, parse_stages, serve_metrics

    stages = parse_stages(args.stages)
    store = _store(config)
    shared = store.engine.dialect.name == "postgresql"
    if not shared:
        print("worker: on SQLite one worker runs per home (it holds the run lock); "
              "set SAMACHAR_DATABASE_URL to a PostgreSQL database to run many", file=sys.stderr)
    worker = Worker(store, config, stages, concurrency=args.concurrency, progress=Progress(enabled=not args.quiet))
    if args.metrics_port is not None:
        serve_metrics(store, args.metrics_port, args.metrics_host)
    worker.install_signal_handlers()
    if not args.quiet:
        print(f"worker {lease_owner()}: stages {','.join(s.name for s in stages)}, "
              f"{args.concurrency} entries per stage and round")
    with nullcontext() if shared else run_lock(config.home):
        report = worker.run(rounds=args.rounds, until_idle=args.until_idle)
    if not args.quiet:
        print(f"worker {lease_owner()}: {report.rounds} rounds, {worker.claim.claimed} entries claimed, "
              f"{report.total('published')} published")
    return 0


def cmd_run(args, config: Config) -> int:
    from samachar.runlock import RunInProgress, run_lock
    from samachar.service import SiteService

    pipeline = _pipeline(config, args)
    service = SiteService(pipeline.store, config)
    while True:
        try:
            with run_lock(config.home):
                report = pipeline.run_once()
                service.build(config.site_dir)  # unchanged pages are not rewritten
        except Exception as exc:
            if args.once or isinstance(exc, RunInProgress):
                raise
            # A daemon survives a bad round (a locked database, a full disk): log, wait, go on.
            log.exception("run failed; retrying at the next round")
            time.sleep(args.interval)
            continue
        if not args.quiet:
            print(report.summary())
            for reason in report.waiting:
                print(f"waiting: {reason}")
            for line in report.skipped:
                print(f"skipped: {line}")
        for line in report.unexpected_lines():  # a bug or a broken install: said even with -q
            print(f"unexpected: {line}", file=sys.stderr)
        if args.once:
            return 0
        time.sleep(_seconds_until_next_due(pipeline, args.interval))


def _seconds_until_next_due(pipeline, longest: int) -> float:
    """Sleep until the next source is due on its own schedule, at most ``longest`` seconds."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    next_due = pipeline.store.sources.next_due_at()  # paused and muted sources aside
    if next_due is None:
        return float(longest)
    return max(5.0, min(float(longest), (next_due - now).total_seconds()))


def cmd_build(args, config: Config) -> int:
    out = Path(args.out) if args.out else config.site_dir
    if not config.site.base_url:
        print("warning: [site] base_url is not set in samachar.toml; feed links and self-canonicals "
              "will point at http://localhost:8000/", file=sys.stderr)
    pages = _service(config).build(out)
    print(f"built {pages} files into {out}")
    return 0


def cmd_serve(args, config: Config) -> int:
    import uvicorn

    service = _service(config)
    app = service.create_app(admin=False) if args.no_admin else service.create_app()
    print(f"serving {config.site.title} at http://{args.host}:{args.port}/")
    if not args.no_admin:
        print(f"the editorial desk is at http://{args.host}:{args.port}/admin/ (users: 'samachar user add')")
    import gc

    # Start-up's garbage goes now; what is alive (modules, the app) is frozen out of the collector's
    # full passes, which otherwise walk it all (~60 ms) every hundred or so requests: the desk's p99.
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=True,
                    forwarded_allow_ips=args.forwarded_allow_ips)
    finally:
        gc.unfreeze()
    return 0


# -- single-article tools -------------------------------------------------------------------------

def _load_article(args, config: Config):
    """Read FILE_OR_URL and extract it; URLs go through the same HTTP client as the pipeline."""
    from samachar.extract import extract_article

    target = args.file_or_url
    if target.startswith(("http://", "https://")):
        from samachar.fetch import HttpClient

        async def fetch():
            async with HttpClient(allow_private=config.allow_private_networks,
                                  user_agent=config.fetch.user_agent) as client:
                return await client.fetch(target)
        result = asyncio.run(fetch())
        return extract_article(result.text(), args.url or result.url)
    path = Path(target)
    if not path.exists():
        raise SamacharError(f"{target}: no such file (give a path or an http(s) URL)")
    return extract_article(path.read_bytes(), args.url or path.resolve().as_uri())


def _article_metadata(article) -> dict:
    """What ``extract --json`` and ``translate --json`` both say about the article besides its text."""
    return {"canonical_url": article.canonical_url, "publisher": article.publisher,
            "author": ", ".join(article.authors) or None, "published": _iso(article.published),
            "modified": _iso(article.modified), "image": article.image.src if article.image else None,
            "language": article.language, "source": article.source}


def cmd_extract(args, config: Config) -> int:
    article = _load_article(args, config)
    data = {"title": article.title, "text": article.text, "html": blocks_to_html(article.blocks),
            **_article_metadata(article)}
    if args.json:
        _print_json(data)
    else:
        print(f"{article.title}\n\n{article.text}")
    return 0


def cmd_translate(args, config: Config) -> int:
    from samachar.stages import Translator
    from samachar.translate.language import source_language

    article = _load_article(args, config)
    source = args.source or source_language(None, article.language, config.translation.source_language)
    target = args.target or config.site.language
    translator = Translator(_store(config), config, [args.engine] if args.engine else None)
    translated = translator.translate(article, source, target)
    data = {"title": translated.title, "source_html": blocks_to_html(article.blocks),
            "html": blocks_to_html(translated.blocks), "engine": translated.engine,
            "source_language": source, "target_language": target,
            "flags": [f.to_dict() for f in translated.flags], **_article_metadata(article)}
    if args.json:
        _print_json(data)
    else:
        print(translated.title + "\n\n" + "\n\n".join(b.text for b in translated.blocks))
        for flag in translated.flags:
            print(f"[{flag.severity}] {flag.check}: {flag.message}", file=sys.stderr)
    return 0


# -- glossary -------------------------------------------------------------------------------------

def cmd_glossary_add(args, config: Config) -> int:
    _store(config).glossary.add(args.source, args.target, args.lang)
    print(f"glossary ({args.lang}): {args.source} → {args.target}")
    return 0


def cmd_glossary_list(args, config: Config) -> int:
    terms = _store(config).glossary.terms(args.lang)
    if args.json:
        _print_json(terms)
    else:
        for source, target in terms.items():
            print(f"{source}\t{target}")
    return 0


def cmd_glossary_remove(args, config: Config) -> int:
    if not _store(config).glossary.remove(args.source, args.lang):
        raise SamacharError(f"{args.source!r} is not in the {args.lang} glossary")
    return 0


# -- demo -----------------------------------------------------------------------------------------

def cmd_demo(args, config: Config) -> int:
    import os

    from samachar.demo.run import run_demo

    explicit = args.home or os.environ.get("SAMACHAR_HOME") or None
    return run_demo(Path(explicit).expanduser() if explicit else None, build_only=args.build_only,
                    out=Path(args.out) if args.out else None, host=args.host, port=args.port, quiet=args.quiet,
                    install=not args.no_install)


# -- parser ---------------------------------------------------------------------------------------

def _int_at_least(minimum: int, too_small: str):
    """An argparse type: a whole number of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} {too_small}")
        return value
    return parse


_positive_int = _int_at_least(1, "is not at least 1")
_whole_number = _int_at_least(0, "is negative")


def _port(text: str) -> int:
    """An argparse type: a TCP port, 1-65535."""
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samachar", description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="the site's home folder (default: $SAMACHAR_HOME or ~/.local/share/samachar)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars, warnings only")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every event")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create the home's samachar.toml for a site in LANG")
    p.add_argument("--language", required=True, help="site language, ISO 639-1 (hi, es, en…)")
    p.add_argument("--engine", help="translation engine (default: auto)")
    p.add_argument("--title", help="site title")
    p.add_argument("--source-language", default="en", help="language of the sources (default: en)")
    p.add_argument("--base-url", help="the site's public address, e.g. https://news.example.org/ (used in feeds; "
                                      "asked for on a terminal when not given)")
    p.add_argument("--force", action="store_true", help="overwrite an existing samachar.toml")
    p.set_defaults(func=cmd_init)

    source = sub.add_parser("source", help="add, list, filter and remove sources").add_subparsers(
        dest="action", required=True)
    p = source.add_parser("add", help="follow a feed (or a site: its feed is discovered)")
    p.add_argument("url", help="the feed's address, or the site's (its feed is discovered)")
    p.add_argument("--name", help="the publisher's name as the site credits it (default: the feed's title)")
    p.add_argument("--policy", choices=("full", "excerpt", "link"), help="republish policy (default: the site's)")
    p.add_argument("--seo", choices=("canonical", "noindex", "index"),
                   help="what search engines are told about its articles (default: the site's [site] seo)")
    p.add_argument("--stories", choices=("merge", "separate"),
                   help="merge: a story other sources report too is published once, crediting this one; "
                        "separate: every entry of it is published (default: the site's [stories] mode)")
    p.add_argument("--language", help="the source's language, if not the site's source language")
    p.add_argument("--interval", type=_positive_int, help="poll every N minutes (default: from the feed)")
    p.add_argument("--no-discover", action="store_true", help="add the URL as it is, without fetching it")
    p.set_defaults(func=cmd_source_add)
    p = source.add_parser("list", help="sources with their entry counts and last error")
    p.add_argument("--json", action="store_true", help="print JSON (with URLs, policy, SEO and schedule)")
    p.set_defaults(func=cmd_source_list)
    p = source.add_parser("remove", help="stop following a source (its entries are kept)")
    p.add_argument("source", metavar="ID_OR_URL", help="the source's id from 'samachar source list', or its feed URL")
    p.set_defaults(func=cmd_source_remove)
    p = source.add_parser("filter", help="keep only some of a source's entries: words, patterns, categories, "
                                         "length, age (no options: show its filters)")
    p.add_argument("source", metavar="ID_OR_URL", help="the source's id from 'samachar source list', or its feed URL")
    p.add_argument("--include", nargs="+", action="extend", metavar="WORD",
                   help="keep only entries whose title or body has one of these words (or phrases)")
    p.add_argument("--exclude", nargs="+", action="extend", metavar="WORD",
                   help="drop entries whose title or body has one of these words (or phrases)")
    p.add_argument("--include-re", action="append", metavar="RE",
                   help="keep only entries whose title or body matches this regular expression (case-insensitive)")
    p.add_argument("--exclude-re", action="append", metavar="RE",
                   help="drop entries whose title or body matches this regular expression (case-insensitive)")
    p.add_argument("--category", nargs="+", action="extend", metavar="C",
                   help="keep only entries in one of these categories (the feed's, or the page's tags)")
    p.add_argument("--exclude-category", nargs="+", action="extend", metavar="C",
                   help="drop entries in any of these categories")
    p.add_argument("--min-words", type=_whole_number, metavar="N", help="drop entries whose body has fewer words")
    p.add_argument("--max-age-days", type=_whole_number, metavar="N",
                   help="drop entries the publisher dated more than N days ago")
    p.add_argument("--clear", action="store_true",
                   help="remove the source's filters first (alone: remove them all)")
    p.set_defaults(func=cmd_source_filter)
    p = source.add_parser("import-opml", help="add every feed of an OPML file")
    p.add_argument("file", help="the OPML file")
    p.set_defaults(func=cmd_source_import_opml)
    p = source.add_parser("export-opml", help="print the sources as OPML")
    p.set_defaults(func=cmd_source_export_opml)

    p = sub.add_parser("poll", help="fetch and parse every due source once")
    p.add_argument("--all", action="store_true", help="poll every source now, due or not")
    p.set_defaults(func=cmd_poll)

    entry = sub.add_parser("entry", help="list, show, approve, release, retry and delete entries").add_subparsers(
        dest="action", required=True)
    p = entry.add_parser("list", help="entries, newest first, with their state and reason")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--source", help="only entries of this source URL")
    p.add_argument("--state", choices=[s.value for s in EntryState], metavar="STATE",
                   help="only entries in this state (new, fetched, extracted, filtered, merged, translated, held, "
                        "published, failed)")
    p.add_argument("--limit", type=_positive_int, help="at most N entries")
    p.set_defaults(func=cmd_entry_list)
    p = entry.add_parser("show", help="one entry: its original and translation segment by segment, "
                                      "its QA flags and its history")
    p.add_argument("id", type=int, metavar="ID", help="the entry's id from 'samachar entry list'")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_entry_show)
    p = entry.add_parser("approve", help="publish a held entry on the next run")
    p.add_argument("id", type=int, metavar="ID", help="the held entry's id")
    p.set_defaults(func=cmd_entry_approve)

    p = entry.add_parser("release", help="let a filtered entry through: it is translated on the next run")
    p.add_argument("id", type=int, metavar="ID", help="the filtered entry's id")
    p.set_defaults(func=cmd_entry_release)

    p = entry.add_parser("retry", help="give failed (or held) entries another go; all failed ones by default")
    p.add_argument("ids", type=int, nargs="*", metavar="ID", help="the entries to retry (default: every failed one)")
    p.set_defaults(func=cmd_entry_retry)
    p = entry.add_parser("delete", help="unpublish an entry and never import it again (a tombstone)")
    p.add_argument("id", type=int, metavar="ID", help="the entry's id")
    p.set_defaults(func=cmd_entry_delete)

    p = sub.add_parser("run", help="every stage over everything due; in a loop unless --once")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--interval", type=_positive_int, default=300,
                   help="longest sleep between rounds in seconds; sources are polled on their own schedule (default 300)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="run stages over a shared PostgreSQL database, with any number of others")
    p.add_argument("--stages", default=None,
                   help="comma-separated stages to run: poll,fetch,extract,filter,cluster,translate,publish (default: all)")
    p.add_argument("--concurrency", type=_positive_int, default=16,
                   help="entries claimed per stage and round (fetched concurrently, translated in batches; default 16)")
    p.add_argument("--metrics-port", type=int, default=None, help="serve /metrics (Prometheus) on this port")
    p.add_argument("--metrics-host", default="127.0.0.1", help="address for /metrics (default 127.0.0.1)")
    p.add_argument("--rounds", type=_positive_int, default=None, help="stop after this many rounds")
    p.add_argument("--until-idle", action="store_true", help="stop after a round that found nothing to do")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("build", help="static export of the site")
    p.add_argument("--out", help="output folder (default: HOME/site)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="serve the site")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--no-admin", action="store_true", help="serve only the site: no /admin/ desk, no /api/v1/")
    p.add_argument("--forwarded-allow-ips", metavar="IPS",
                   help="reverse proxies (comma-separated addresses, or *) whose X-Forwarded-Proto/-For are "
                        "believed (default: 127.0.0.1, or $FORWARDED_ALLOW_IPS)")
    p.set_defaults(func=cmd_serve)

    for name, func, helptext in (("extract", cmd_extract, "extract one article page"),
                                 ("translate", cmd_translate, "extract and translate one article page")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("file_or_url", metavar="FILE_OR_URL", help="a saved page, or an http(s) URL to fetch")
        p.add_argument("--url", help="the page's original URL (for relative links and the canonical fallback)")
        p.add_argument("--json", action="store_true", help="print JSON (text, HTML and the article's metadata)")
        if name == "translate":
            p.add_argument("--from", dest="source", help="source language (default: the page's)")
            p.add_argument("--to", dest="target", help="target language (default: the site's)")
            p.add_argument("--engine", help="engine name or package.module:Class")
        p.set_defaults(func=func)

    glossary = sub.add_parser("glossary", help="fixed renderings of names and terms").add_subparsers(dest="action", required=True)
    p = glossary.add_parser("add", help="always translate SOURCE as TARGET")
    p.add_argument("source", help="the name or term as the sources write it")
    p.add_argument("target", help="its one rendering in LANG")
    p.add_argument("--lang", required=True, help="the target language")
    p.set_defaults(func=cmd_glossary_add)
    p = glossary.add_parser("list", help="the glossary of one language")
    p.add_argument("--lang", required=True, help="the target language")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_glossary_list)
    p = glossary.add_parser("remove", help="forget a term's fixed rendering")
    p.add_argument("source", help="the name or term as the sources write it")
    p.add_argument("--lang", required=True, help="the target language")
    p.set_defaults(func=cmd_glossary_remove)

    try:
        from samachar.models.cli import register as register_models
    except ImportError:
        register_models = None
    if register_models is not None:
        register_models(sub)
    __import__("samachar.publish.target_cli", fromlist=["register"]).register(sub)  # samachar target list|check
    __import__("samachar.stories.cli", fromlist=["register"]).register(sub)  # samachar story list|split|merge
    __import__("samachar.web.admin.user_cli", fromlist=["register"]).register(sub)  # samachar user|token …

    p = sub.add_parser("demo", help="run the whole pipeline on bundled sample sources, offline, in a home of its own")
    p.add_argument("--home", default=argparse.SUPPRESS,
                   help="the demo's home (default: $SAMACHAR_HOME, else samachar-demo beside the default home)")
    p.add_argument("--build-only", action="store_true", help="build the site and exit instead of serving it")
    p.add_argument("--out", help="where to write the site (default: HOME/site)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve the site on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to serve the site on (default 8000, or a free one if it is taken)")
    p.add_argument("--no-install", action="store_true",
                   help="do not try to install an en→hi model from the model index")
    p.set_defaults(func=cmd_demo)
    _accept_global_flags_everywhere(parser)
    return parser


def _accept_global_flags_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``-q``/``-v`` follow the subcommand too (``samachar run --once -q``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                                   help="no progress bars, warnings only")
                child.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                   help="log every event")
                _accept_global_flags_everywhere(child)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if argv is None:  # this process is the command: what it loaded (SQLAlchemy…) stays, out of the collector's walks
        __import__("gc").freeze()
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("trafilatura", "htmldate", "courlan"):  # their page-level chatter, not our events
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        home = Path(args.home) if args.home else None
        # init replaces the file: a broken one must not stop it.
        config = Config(home=home or home_dir()) if args.func is cmd_init else load_config(home)
        code = int(args.func(args, config) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except SamacharError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`samachar entry list | head`): stop quietly, as other tools do.
        # Point stdout at devnull so that the flush at exit does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a home that is a file, a full disk: one line, the details with -v
        log.info("the command failed", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
