"""``samachar target``: the publish targets of samachar.toml — list them, check that one can be reached.

The main CLI calls ``register(subparsers)``; each subcommand's handler is called as
``func(args, config)``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from samachar.config import Config
from samachar.errors import SamacharError


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("target", help="publish targets ([[targets]] in samachar.toml): list, check")
    actions = parser.add_subparsers(dest="target_action", required=True)

    p = actions.add_parser("list", help="the site and every [[targets]] table, with their posts by state")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_target_list)

    p = actions.add_parser("check", help="reach a target, log in and check what posting needs (exit 2 if not)")
    p.add_argument("name", metavar="NAME", help="the target's name from 'samachar target list'")
    p.set_defaults(func=cmd_target_check)
    return parser


def _specs(config: Config) -> list[dict[str, Any]]:
    from samachar.publish.targets import SITE

    return [{"kind": SITE, "name": SITE}, *config.targets]


def _describe(spec: dict[str, Any], config: Config) -> tuple[str | None, str | None]:
    """(url, post status) as the table says; the site's own address for the site."""
    from samachar.publish.site import DEFAULT_BASE_URL
    from samachar.publish.targets import SITE

    if spec["kind"] == SITE:
        return config.site.base_url or DEFAULT_BASE_URL, "publish"
    status = spec.get("status", "publish" if spec["kind"] == "wordpress" else None)
    return spec.get("url"), status


def _counts(store, names: list[str]) -> dict[str, dict[str, int]]:
    from sqlalchemy import func, select

    from samachar.store.schema import publications

    counts: dict[str, dict[str, int]] = {name: {} for name in names}
    query = (select(publications.c.target, publications.c.state, func.count())
             .group_by(publications.c.target, publications.c.state))
    with store.engine.connect() as conn:
        for target, state, n in conn.execute(query):
            if target in counts:
                counts[target][state] = int(n)
    return counts


def target_rows(store, config: Config) -> list[dict[str, Any]]:
    """The site and every ``[[targets]]`` table: name, kind, url, post status and posts by state.

    Every table is loaded first, so one that would not load is said here, not at the next run.
    Never a secret: a target's password stays in its environment variable.
    """
    from samachar.publish.targets import TargetContext, build_target

    specs = _specs(config)
    context = TargetContext(store=store, config=config)
    for spec in specs:
        build_target(spec, context)
    counts = _counts(store, [s["name"] for s in specs])
    rows = []
    for spec in specs:
        url, status = _describe(spec, config)
        rows.append({"name": spec["name"], "kind": spec["kind"], "url": url, "status": status,
                     "posts": counts[spec["name"]]})
    return rows


def check_target(store, config: Config, name: str) -> str:
    """Reach the target called ``name`` and check what posting needs: one line saying so, else an error."""
    from samachar.publish.targets import SITE, TargetContext, build_target

    specs = {s["name"]: s for s in _specs(config)}
    spec = specs.get(name)
    if spec is None:
        names = ", ".join(specs)
        raise SamacharError(f"no target {name!r} in samachar.toml (targets: {names}); "
                            "see 'samachar target list'")
    if spec["kind"] == SITE:
        return f"{SITE}: the built-in site; nothing to reach (see 'samachar build' and 'samachar serve')"
    target = build_target(spec, TargetContext(store=store, config=config))
    check = getattr(target, "check", None)
    if check is None:
        return f"{name}: a {spec['kind']} target has no check of its own; it loads"
    return str(check())


def cmd_target_list(args, config: Config) -> int:
    from samachar.store import Store

    config.home.mkdir(parents=True, exist_ok=True)
    store = Store(config.db_url)
    try:
        rows = target_rows(store, config)
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        posts = ", ".join(f"{n} {state}" for state, n in sorted(row["posts"].items())) or "no posts yet"
        print(f"{row['name']:<12} {row['kind']:<10} {row['url'] or '-'}  ({row['status'] or '-'}; {posts})")
    return 0


def cmd_target_check(args, config: Config) -> int:
    from samachar.publish.targets import SITE
    from samachar.store import Store

    spec = {s["name"]: s for s in _specs(config)}.get(args.name)
    if spec is None or spec["kind"] == SITE:  # the one-line error, or the site's line: no store needed
        print(check_target(None, config, args.name))
        return 0
    config.home.mkdir(parents=True, exist_ok=True)
    store = Store(config.db_url)
    try:
        print(check_target(store, config, args.name))
    finally:
        store.close()
    return 0
