"""Translation-memory keys stay what they were: existing databases keep hitting their memory.

A key is the sha256 of engine name, model, languages and the normalised tagged
source, joined by U+001F (see ``samachar.translate.memory``). The model is the
engine's ``model_for(source, target)`` when it has one, else its ``model``; in a
fallback chain, each translation is kept under the member that made it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from samachar.model import Article, Block
from samachar.translate.document import translate_article
from samachar.translate.fallback import FallbackEngine
from samachar.translate.memory import MemoryKey, SqlTranslationMemory


def digest(engine: str, model: str, source: str, target: str, text: str) -> str:
    """The key as samachar has always written it, computed here from its definition."""
    normalised = re.sub(r"\s+", " ", text).strip()
    fields = (engine, model, source, target, normalised)
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def test_a_fixed_key_keeps_its_digest():
    key = MemoryKey("ctranslate2", "argos:translate-en_hi-tiny@0.0.1", "en", "hi", "The  <g1>talks</g1> ended.")
    assert key.digest == digest("ctranslate2", "argos:translate-en_hi-tiny@0.0.1", "en", "hi",
                                "The <g1>talks</g1> ended.")
    # Written by samachar before the fallback chain became a wrapper engine; must never change.
    assert key.digest == "e5266afd15bccc020482a42690cfd72b36921962623c0fc5f2127e0af64ba801"


class PerPair:
    """One model per language pair, as CTranslate2 has: the key uses ``model_for``."""

    name = "perpair"
    model = "all-models"
    deterministic = True

    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.calls: list[list[str]] = []

    def model_for(self, source: str, target: str) -> str:
        return f"opus-{source}-{target}@2"

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.calls.append(list(segments))
        if self.refuse and any(self.refuse in s for s in segments):
            raise RuntimeError("refused")
        return [f"[{self.name}] {s}" for s in segments]


class OneModel(PerPair):
    name = "onemodel"
    model = "v7"
    model_for = None  # type: ignore[assignment]  # only ``model``


def article() -> Article:
    return Article(url="https://news.example/a", title="Rain in the hills", blocks=[
        Block("paragraph", 'Roads were closed. <a href="https://news.example/r">Schools</a> shut early.'),
    ])


def old_database(rows: dict[str, str]) -> SqlTranslationMemory:
    """A translation_memory table with rows as an earlier samachar wrote them, by digest."""
    db = sa.create_engine("sqlite://")
    memory = SqlTranslationMemory(db)
    memory.table.metadata.create_all(db, tables=[memory.table])
    now = datetime.now(UTC)
    with db.begin() as conn:
        for key, target in rows.items():
            conn.execute(sa.insert(memory.table).values(
                key=key, engine="", model="", source_lang="en", target_lang="es", source_text="",
                target_text=target, created_at=now))
    return memory


def test_an_existing_memory_is_hit_by_the_engine_and_by_each_member_of_a_chain():
    title, first, second = "Rain in the hills", "Roads were closed.", "<g1>Schools</g1> shut early."
    memory = old_database({
        digest("perpair", "opus-en-es@2", "en", "es", title): "Lluvia en las colinas",
        digest("perpair", "opus-en-es@2", "en", "es", first): "Se cerraron las carreteras.",
        digest("onemodel", "v7", "en", "es", second): "<g1>Las escuelas</g1> cerraron pronto.",
    })
    per_pair, one_model = PerPair(), OneModel()
    result = translate_article(article(), FallbackEngine([per_pair, one_model]), "en", "es", memory=memory)
    assert per_pair.calls == [] and one_model.calls == []
    assert result.title == "Lluvia en las colinas"
    assert result.blocks[0].html == ('Se cerraron las carreteras. <a href="https://news.example/r">Las escuelas</a> '
                                     "cerraron pronto.")
    assert result.engine == "perpair+onemodel"

    alone = PerPair()
    assert translate_article(article(), alone, "en", "es", memory=memory).title == "Lluvia en las colinas"
    assert alone.calls == [[second]]


def test_fresh_translations_are_written_under_the_same_keys():
    per_pair, one_model = PerPair(refuse="Schools"), OneModel()
    db = sa.create_engine("sqlite://")
    memory = SqlTranslationMemory(db)
    memory.table.metadata.create_all(db, tables=[memory.table])
    translate_article(article(), FallbackEngine([per_pair, one_model]), "en", "es", memory=memory)
    with db.connect() as conn:
        rows = {key: (engine, model) for key, engine, model in conn.execute(
            sa.select(memory.table.c.key, memory.table.c.engine, memory.table.c.model))}
    sent = {s for call in per_pair.calls + one_model.calls for s in call}
    expected = {digest("perpair", "opus-en-es@2", "en", "es", s): ("perpair", "opus-en-es@2") for s in sent
                if "Schools" not in s}
    expected[digest("onemodel", "v7", "en", "es", "<g1>Schools</g1> shut early.")] = ("onemodel", "v7")
    assert {k: v for k, v in rows.items() if k in expected} == expected
    assert set(rows) <= set(expected) | {digest("onemodel", "v7", "en", "es", s) for s in sent}


def test_two_writers_storing_the_same_sentences_at_once_both_succeed(tmp_path):
    """Workers translating the same sentence at the same moment: an upsert, never a duplicate-key error."""
    import threading

    from conftest import database_url

    from samachar.store import Store
    from samachar.translate.memory import MemoryKey, SqlTranslationMemory

    store = Store(database_url(tmp_path))
    rounds = [[MemoryKey("apertium", "apertium", "en", "es", f"Sentence {n} of round {r}.") for n in range(5)]
              for r in range(30)]
    keys = [key for round_keys in rounds for key in round_keys]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(answer: str) -> None:
        memory = SqlTranslationMemory(store.engine)
        for round_keys in rounds:  # both writers meet new sentences at the same moment, round after round
            start.wait()
            try:
                memory.put_many({key: f"{answer} {key.source_text}" for key in round_keys})
            except BaseException as exc:  # noqa: BLE001 - the test reports whatever a writer hit
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("uno", "dos")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    found = SqlTranslationMemory(store.engine).get_many(keys)
    assert len(found) == 150 and all(v.split(" ", 1)[0] in ("uno", "dos") for v in found.values())
    store.close()
