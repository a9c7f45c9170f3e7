"""The ``samachar`` command: every subcommand is a thin shell around a stage or the pipeline.

Errors that samachar raises on purpose print as one line (``error: …``) with
exit status 2; a run that merely records per-source or per-entry failures
exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from samachar.config import Config, load_config, write_config
from samachar.errors import SamacharError
from samachar.model import blocks_to_html
from samachar.progress import Progress

log = logging.getLogger("samachar")


def _store(config: Config):
    from samachar.store import Store

    config.home.mkdir(parents=True, exist_ok=True)
    return Store(config.db_url)


def _pipeline(config: Config, args, **kwargs):
    from samachar.pipeline import Pipeline

    return Pipeline(_store(config), config, progress=Progress(enabled=not args.quiet), **kwargs)


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
    engines = [args.engine] if args.engine else None
    path = write_config(config.home, language=args.language, engines=engines, title=args.title,
                        source_language=args.source_language)
    _store(load_config(config.home)).close()
    print(f"created {path} (site language {args.language}); add sources with 'samachar source add URL'")
    return 0


# -- sources --------------------------------------------------------------------------------------

def _check_http_url(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SamacharError(f"{url!r} is not an http(s) URL; give the feed's or the site's address")


def cmd_source_add(args, config: Config) -> int:
    from samachar.fetch import HttpClient
    from samachar.sources.discover import resolve_feed_url

    url = args.url
    _check_http_url(url)
    if not args.no_discover:
        async def resolve():
            async with HttpClient(allow_private=config.allow_private_networks,
                                  user_agent=config.fetch.user_agent) as client:
                return await resolve_feed_url(client, url)
        try:
            url = asyncio.run(resolve())
        except SamacharError as exc:
            raise SamacharError(f"cannot add {args.url}: {exc} (use --no-discover to add it as it is)") from exc
    store = _store(config)
    source = store.sources.add(url, name=args.name, policy=args.policy, language=args.language,
                               interval_minutes=args.interval)
    note = f" (discovered from {args.url})" if url != args.url else ""
    print(f"source {source.id}: {source.url}{note}")
    return 0


def _source_json(s) -> dict:
    return {"id": s.id, "url": s.url, "name": s.display_name, "entries": s.entries,
            "status": "error" if s.status in ("error", "gone") else "ok", "state": s.status, "error": s.error,
            "policy": s.policy, "language": s.language, "last_polled_at": _iso(s.last_polled_at),
            "next_poll_at": _iso(s.next_poll_at), "error_count": s.error_count}


def cmd_source_list(args, config: Config) -> int:
    sources = _store(config).sources.list()
    if args.json:
        _print_json([_source_json(s) for s in sources])
        return 0
    if not sources:
        print("no sources; add one with 'samachar source add URL'")
    for s in sources:
        state = s.status + (f" ({s.error})" if s.error else "")
        print(f"{s.id:>4}  {s.entries:>5} entries  {state:<10}  {s.display_name}  <{s.url}>")
    return 0


def cmd_source_remove(args, config: Config) -> int:
    if not _store(config).sources.remove(args.url):
        raise SamacharError(f"no source {args.url}; see 'samachar source list'")
    print(f"removed {args.url} (its entries are kept)")
    return 0


def cmd_source_import_opml(args, config: Config) -> int:
    from samachar.sources.opml import parse_opml

    path = Path(args.file)
    if not path.is_file():
        raise SamacharError(f"{args.file}: no such file")
    items = parse_opml(path.read_bytes())
    store = _store(config)
    for url, title in items:
        store.sources.add(url, name=title)
    print(f"imported {len(items)} sources from {args.file}")
    return 0


def cmd_source_export_opml(args, config: Config) -> int:
    from samachar.sources.opml import write_opml

    sys.stdout.write(write_opml([(s.url, s.display_name) for s in _store(config).sources.list()]))
    return 0


# -- polling and runs -----------------------------------------------------------------------------

def cmd_poll(args, config: Config) -> int:
    from samachar.runlock import run_lock

    pipeline = _pipeline(config, args)
    if args.all:
        pipeline.store.sources.schedule_now()
    with run_lock(config.home):
        report = pipeline.poll()
    print(f"polled {report.polled} sources: {report.new_entries} new entries, {report.poll_errors} errors")
    return 0


def cmd_entry_list(args, config: Config) -> int:
    store = _store(config)
    states = (args.state,) if args.state else None
    rows = store.entries.list(source_url=args.source, states=states, limit=args.limit)
    if args.json:
        _print_json([{"id": e.id, "title": e.title, "url": e.url, "source_url": e.source_url,
                      "published": _iso(e.published), "state": e.state, "error": e.error, "note": e.note}
                     for e in rows])
        return 0
    for e in rows:
        reason = f"  — {e.error}" if e.error else ""
        print(f"{e.id:>5}  {e.state:<10}  {e.title[:80]}{reason}")
    return 0


def cmd_entry_approve(args, config: Config) -> int:
    pipeline = _pipeline(config, args)
    if not pipeline.approve(args.id):
        raise SamacharError(f"entry {args.id} is not held for review")
    print(f"entry {args.id} approved; it is published on the next run")
    return 0


def cmd_entry_delete(args, config: Config) -> int:
    pipeline = _pipeline(config, args)
    if not pipeline.delete(args.id):
        raise SamacharError(f"no entry {args.id}; see 'samachar entry list'")
    if (config.site_dir / "index.html").exists():
        pipeline.build_site(config.site_dir)
    print(f"entry {args.id} deleted; it stays remembered so that it is never imported again")
    return 0


def cmd_entry_retry(args, config: Config) -> int:
    pipeline = _pipeline(config, args)
    ids = args.ids or [e.id for e in pipeline.store.entries.list(states=("failed",))]
    retried = [(i, pipeline.retry(i)) for i in ids]
    for entry_id, state in retried:
        print(f"entry {entry_id}: " + (f"back to {state}; it moves on at the next run" if state
                                        else "not failed or held; unchanged"))
    if not retried:
        print("no failed entries")
    return 0


def cmd_run(args, config: Config) -> int:
    from samachar.runlock import RunInProgress, run_lock

    pipeline = _pipeline(config, args)
    while True:
        try:
            with run_lock(config.home):
                report = pipeline.run_once()
                pipeline.build_site(config.site_dir)  # unchanged pages are not rewritten
        except Exception as exc:
            if args.once or isinstance(exc, RunInProgress):
                raise
            # A daemon survives a bad round (a locked database, a full disk): log, wait, go on.
            log.exception("run failed: %s; retrying at the next round", exc)
            time.sleep(args.interval)
            continue
        if not args.quiet:
            print(report.summary())
            for reason in report.waiting:
                print(f"waiting: {reason}")
        if args.once:
            return 0
        time.sleep(_seconds_until_next_due(pipeline, args.interval))


def _seconds_until_next_due(pipeline, longest: int) -> float:
    """Sleep until the next source is due on its own schedule, at most ``longest`` seconds."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    due_times = [s.next_poll_at for s in pipeline.store.sources.list() if s.status != "gone" and s.next_poll_at]
    if not due_times:
        return float(longest)
    return max(5.0, min(float(longest), (min(due_times) - now).total_seconds()))


def cmd_build(args, config: Config) -> int:
    out = Path(args.out) if args.out else config.site_dir
    if not config.site.base_url:
        print("warning: [site] base_url is not set in samachar.toml; feed links and self-canonicals "
              "will point at http://localhost:8000/", file=sys.stderr)
    pages = _pipeline(config, args).build_site(out)
    print(f"built {pages} files into {out}")
    return 0


def cmd_serve(args, config: Config) -> int:
    import uvicorn

    app = _pipeline(config, args).create_app()
    print(f"serving {config.site.title} at http://{args.host}:{args.port}/")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
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


def cmd_extract(args, config: Config) -> int:
    article = _load_article(args, config)
    data = {"title": article.title, "text": article.text, "html": blocks_to_html(article.blocks),
            "canonical_url": article.canonical_url, "publisher": article.publisher,
            "author": ", ".join(article.authors) or None, "published": _iso(article.published),
            "modified": _iso(article.modified), "image": article.image.src if article.image else None,
            "language": article.language, "source": article.source}
    if args.json:
        _print_json(data)
    else:
        print(f"{article.title}\n\n{article.text}")
    return 0


def cmd_translate(args, config: Config) -> int:
    from samachar.pipeline import Pipeline

    article = _load_article(args, config)
    source = args.source or (article.language or config.translation.source_language).split("-")[0]
    target = args.target or config.site.language
    store = _store(config)
    pipeline = Pipeline(store, config, engines=[args.engine] if args.engine else None)
    translated = pipeline.translate(article, source, target)
    data = {"title": translated.title, "source_html": blocks_to_html(article.blocks),
            "html": blocks_to_html(translated.blocks), "engine": translated.engine,
            "source_language": source, "target_language": target,
            "flags": [f.to_dict() for f in translated.flags]}
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
    from samachar.demo.run import run_demo

    return run_demo(config, build_only=args.build_only, out=Path(args.out) if args.out else None,
                    host=args.host, port=args.port, quiet=args.quiet)


# -- parser ---------------------------------------------------------------------------------------

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
    p.add_argument("--force", action="store_true", help="overwrite an existing samachar.toml")
    p.set_defaults(func=cmd_init)

    source = sub.add_parser("source", help="add, list and remove sources").add_subparsers(dest="action", required=True)
    p = source.add_parser("add", help="follow a feed (or a site: its feed is discovered)")
    p.add_argument("url")
    p.add_argument("--name")
    p.add_argument("--policy", choices=("full", "excerpt", "link"), help="republish policy (default: the site's)")
    p.add_argument("--language", help="the source's language, if not the site's source language")
    p.add_argument("--interval", type=int, help="poll every N minutes (default: from the feed)")
    p.add_argument("--no-discover", action="store_true", help="add the URL as it is, without fetching it")
    p.set_defaults(func=cmd_source_add)
    p = source.add_parser("list", help="sources with their entry counts and last error")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_source_list)
    p = source.add_parser("remove", help="stop following a source (its entries are kept)")
    p.add_argument("url")
    p.set_defaults(func=cmd_source_remove)
    p = source.add_parser("import-opml", help="add every feed of an OPML file")
    p.add_argument("file")
    p.set_defaults(func=cmd_source_import_opml)
    p = source.add_parser("export-opml", help="print the sources as OPML")
    p.set_defaults(func=cmd_source_export_opml)

    p = sub.add_parser("poll", help="fetch and parse every due source once")
    p.add_argument("--all", action="store_true", help="poll every source now, due or not")
    p.set_defaults(func=cmd_poll)

    entry = sub.add_parser("entry", help="list entries, approve held ones").add_subparsers(dest="action", required=True)
    p = entry.add_parser("list", help="entries, newest first, with their state and reason")
    p.add_argument("--json", action="store_true")
    p.add_argument("--source", help="only entries of this source URL")
    p.add_argument("--state", help="only entries in this state (new, extracted, held, failed, published…)")
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_entry_list)
    p = entry.add_parser("approve", help="publish a held entry on the next run")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_entry_approve)

    p = entry.add_parser("retry", help="give failed (or held) entries another go; all failed ones by default")
    p.add_argument("ids", type=int, nargs="*", metavar="ID")
    p.set_defaults(func=cmd_entry_retry)
    p = entry.add_parser("delete", help="unpublish an entry and never import it again (a tombstone)")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_entry_delete)

    p = sub.add_parser("run", help="every stage over everything due; in a loop unless --once")
    p.add_argument("--once", action="store_true")
    p.add_argument("--interval", type=int, default=300,
                   help="longest sleep between rounds in seconds; sources are polled on their own schedule (default 300)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("build", help="static export of the site")
    p.add_argument("--out", help="output folder (default: HOME/site)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="serve the site")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    for name, func, helptext in (("extract", cmd_extract, "extract one article page"),
                                 ("translate", cmd_translate, "extract and translate one article page")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("file_or_url", metavar="FILE_OR_URL")
        p.add_argument("--url", help="the page's original URL (for relative links and the canonical fallback)")
        p.add_argument("--json", action="store_true")
        if name == "translate":
            p.add_argument("--from", dest="source", help="source language (default: the page's)")
            p.add_argument("--to", dest="target", help="target language (default: the site's)")
            p.add_argument("--engine", help="engine name or package.module:Class")
        p.set_defaults(func=func)

    glossary = sub.add_parser("glossary", help="fixed renderings of names and terms").add_subparsers(dest="action", required=True)
    p = glossary.add_parser("add", help="always translate SOURCE as TARGET")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--lang", required=True)
    p.set_defaults(func=cmd_glossary_add)
    p = glossary.add_parser("list")
    p.add_argument("--lang", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_glossary_list)
    p = glossary.add_parser("remove")
    p.add_argument("source")
    p.add_argument("--lang", required=True)
    p.set_defaults(func=cmd_glossary_remove)

    try:
        from samachar.models.cli import register as register_models
    except ImportError:
        register_models = None
    if register_models is not None:
        register_models(sub)

    p = sub.add_parser("demo", help="run the whole pipeline on bundled sample sources, offline")
    p.add_argument("--build-only", action="store_true", help="build the site and exit instead of serving it")
    p.add_argument("--out", help="where to write the site (default: HOME/site)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
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
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("trafilatura", "htmldate", "courlan"):  # their page-level chatter, not our events
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        config = load_config(Path(args.home) if args.home else None)
        return int(args.func(args, config) or 0)
    except SamacharError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
