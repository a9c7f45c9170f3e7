"""``samachar story``: the stories the index found — list them, and correct it (split an entry off, merge two).

The main CLI calls ``register(subparsers)``; each subcommand's handler is called as
``func(args, config)``. Corrections go through the merge policy
(:class:`samachar.stories.policy.StoryDesk`): a merged entry split off is translated
and published on its own on the next run, and the pages that credit a story's
sources are updated.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from samachar.config import Config
from samachar.errors import SamacharError

if TYPE_CHECKING:
    from samachar.store import Store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser("story",
                                                           help="stories several sources reported: list, split, merge")
    actions = parser.add_subparsers(dest="story_action", required=True)

    p = actions.add_parser("list", help="stories with their entries, sources and first-seen time "
                                        "(those of two or more entries; --all for every one)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--all", action="store_true", help="stories of one entry too")
    p.add_argument("--limit", type=_positive, help="at most N stories, the newest first")
    p.set_defaults(func=cmd_story_list)

    p = actions.add_parser("split", help="take an entry out of its story: it is published on its own")
    p.add_argument("entry", type=int, metavar="ENTRY", help="the entry's id from 'samachar entry list'")
    p.set_defaults(func=cmd_story_split)

    p = actions.add_parser("merge", help="put B's story into A's: one story, published once, crediting both")
    p.add_argument("a", type=int, metavar="A", help="an entry of the story that stays")
    p.add_argument("b", type=int, metavar="B", help="an entry of the story that joins it")
    p.set_defaults(func=cmd_story_merge)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not at least 1")
    return value


def stories_of(store: Store, entry_ids: list[int]) -> dict[int, int | None]:
    """Each entry's story, None when it is alone in it (or not placed yet): ``entry list --json``'s ``story``."""
    from sqlalchemy import func, select

    from samachar.store.schema import story_members

    found: dict[int, int | None] = dict.fromkeys(entry_ids)
    with store.engine.connect() as conn:
        for start in range(0, len(entry_ids), 500):
            chunk = entry_ids[start:start + 500]
            placed = dict(conn.execute(select(story_members.c.entry_id, story_members.c.story_id)
                                       .where(story_members.c.entry_id.in_(chunk))).all())
            if not placed:
                continue
            sizes: dict[int, int] = dict(conn.execute(select(story_members.c.story_id, func.count())
                                      .where(story_members.c.story_id.in_(set(placed.values())))
                                      .group_by(story_members.c.story_id)).all())
            found.update({entry: story for entry, story in placed.items() if sizes.get(story, 0) > 1})
    return found


def _store(config: Config) -> Store:
    from samachar.store import Store

    return Store(config.db_url)


def _desk(store: Store, config: Config) -> Any:
    from samachar.stories.policy import StoryDesk

    return StoryDesk(store, config)


def _known_entry(store: Store, entry_id: int) -> None:
    if store.entries.get(entry_id) is None:
        raise SamacharError(f"no entry {entry_id}; see 'samachar entry list'")


def _placed(store: Store, entry_id: int) -> None:
    _known_entry(store, entry_id)
    if not _in_index(store, entry_id):
        raise SamacharError(f"entry {entry_id} is in no story yet (it is placed once it is extracted, on the next run)")


def _in_index(store: Store, entry_id: int) -> bool:
    from sqlalchemy import select

    from samachar.store.schema import story_members

    query = select(story_members.c.story_id).where(story_members.c.entry_id == entry_id)
    with store.engine.connect() as conn:
        return conn.execute(query).first() is not None


def story_rows(store: Store, config: Config, *, everything: bool = False,
               limit: int | None = None) -> list[dict[str, Any]]:
    """The stories as ``story list`` shows them: members with their source, state and time, the primary."""
    desk = _desk(store, config)
    rows = desk.index.stories(min_size=1 if everything else 2, limit=limit)
    listed = []
    for row in rows:
        members: list[dict[str, Any]] = []
        for entry_id in row.members:
            entry = store.entries.get(entry_id)
            if entry is None:
                continue
            source = desk.source(entry.source_id)
            members.append({"id": entry.id, "title": entry.title, "url": entry.url, "state": str(entry.state),
                            "source": {"id": source.id, "name": source.display_name, "url": source.url}
                            if source else None,
                            "published": entry.published.isoformat() if entry.published else None})
        listed.append({"story": row.story_id, "first_seen": row.first_seen_at.isoformat(),
                       "primary": row.primary_entry_id, "entries": members,
                       "sources": sorted({m["source"]["name"] for m in members if m["source"]})})
    return listed


def cmd_story_list(args: argparse.Namespace, config: Config) -> int:
    store = _store(config)
    try:
        listed = story_rows(store, config, everything=args.all, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print(json.dumps(listed, ensure_ascii=False, indent=2))
        return 0
    if not listed:
        print("no stories of two or more entries yet" + ("" if args.all else " (--all lists every story)"))
        return 0
    for story in listed:
        print(f"story {story['story']}  first seen {story['first_seen'][:16].replace('T', ' ')}  "
              f"{len(story['entries'])} entries from {', '.join(story['sources']) or 'no source'}")
        for member in story["entries"]:
            mark = "*" if member["id"] == story["primary"] else " "
            source = member["source"]["name"] if member["source"] else "-"
            print(f"  {mark}{member['id']:>5}  {member['state']:<10}  {source[:24]:<24}  {member['title'][:60]}")
    return 0


def cmd_story_split(args: argparse.Namespace, config: Config) -> int:
    store = _store(config)
    try:
        _placed(store, args.entry)
        new, old = _desk(store, config).split(args.entry)
        state = store.entries.get(args.entry)
    finally:
        store.close()
    print(f"entry {args.entry} left story {old} for story {new} of its own; it is {state.state if state else '?'}"
          " and is published on its own by the next run")
    return 0


def cmd_story_merge(args: argparse.Namespace, config: Config) -> int:
    if args.a == args.b:
        raise SamacharError(f"entries {args.a} and {args.b} are the same entry; give two entries of two stories")
    store = _store(config)
    try:
        _placed(store, args.a)
        _placed(store, args.b)
        desk = _desk(store, config)
        story = desk.merge(args.a, args.b)
        primary = desk.primary_of(story)
    finally:
        store.close()
    print(f"story {story} now holds entries {args.a} and {args.b}"
          + (f"; entry {primary} is published for it, crediting the others" if primary else ""))
    return 0
