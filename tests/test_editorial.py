"""The desk's work on entries (samachar.editorial) on a real store: queue, corrections, decisions.

Translations are made by a real engine (Apertium en→es) where the memory is
what is tested; a held entry whose translation lost a number is written the way
the translate stage leaves one.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import database_url
from sqlalchemy import select

from samachar import editorial
from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.model import Article, Block, EntryState, FeedEntry, Flag, TranslatedArticle
from samachar.pipeline import Pipeline
from samachar.service import SiteService
from samachar.sources.identity import entry_identity
from samachar.stages import review_reason, stage
from samachar.store import Store
from samachar.store.schema import entries, translation_memory
from samachar.translate.memory import HUMAN, MemoryKey, SqlTranslationMemory

APERTIUM = shutil.which("apertium") is not None and Path("/usr/share/apertium/modes/eng-spa.mode").exists()
needs_apertium = pytest.mark.skipif(not APERTIUM, reason="Apertium eng-spa is not installed")

ROADS = "The council approved 42 roads."
LOST = "El consejo aprobó carreteras."  # the number is gone


@pytest.fixture
def service(tmp_path):
    config = Config(home=tmp_path, site=SiteConfig(language="es", title="Noticias", base_url="https://n.example/"),
                    translation=TranslationConfig(source_language="en", engines=["apertium"]),
                    default_policy="full")
    store = Store(database_url(tmp_path))
    yield SiteService(store, config)
    store.close()


def add_entry(service: SiteService, title: str, *, source: str = "https://courier.example/feed.xml",
              name: str = "Deccan Courier") -> int:
    row = service.store.sources.add(source, name=name)
    slug = re.sub(r"\W+", "-", title.lower())
    entry = FeedEntry(title=title, url=f"{source.rsplit('/', 1)[0]}/{slug}")
    [entry_id] = service.store.entries.add_many(row.id, [(entry, entry_identity(entry, row.id))])
    return entry_id


def held_entry(service: SiteService, title: str = "Council approves roads", *, flags: list[Flag] | None = None,
               **source) -> int:
    """An entry translated into Spanish whose translation lost a number: held, as the translate stage holds it."""
    entry_id = add_entry(service, title, **source)
    article = Article(url="https://courier.example/roads", title=title, language="en", blocks=[
        Block("heading", "Roads", level=2),
        Block("paragraph", f'{ROADS} Work starts <a href="https://courier.example/plan">next week</a>.'),
    ])
    service.store.articles.save(entry_id, article)
    missing = Flag("numbers", "error", ROADS, LOST, "numbers missing from the translation: 42", block=1)
    translated = TranslatedArticle(
        title="El consejo aprueba carreteras", source_lang="en", target_lang="es", engine="apertium",
        flags=[missing] if flags is None else flags, blocks=[
            Block("heading", "Carreteras", level=2),
            Block("paragraph", f'{LOST} El trabajo empieza <a href="https://courier.example/plan">la semana '
                               'próxima</a>.'),
        ])
    reason = review_reason(translated) or "held"
    service.store.translations.save(entry_id, translated, state=EntryState.HELD, reason=reason)
    return entry_id


def segment(service: SiteService, entry_id: int, source: str) -> dict:
    view = editorial.entry_view(service.store, service.config, service.store.entries.get(entry_id))
    return next(s for s in view["segments"] if s["source"] == source)


# -- the queue -------------------------------------------------------------------------------------

def test_the_queue_lists_held_entries_oldest_first_with_their_reasons_and_filters(service):
    first = held_entry(service, "Council approves roads")
    quoted = Flag("quotes", "error", "Work starts next week.", "x", "2 quotation marks in the source, 0 in the "
                  "translation", block=1)
    second = held_entry(service, "Tide turns in Konkan", flags=[quoted], source="https://tide.example/atom.xml",
                        name="Konkan Tide")
    third = held_entry(service, "Bridge reopens in Solan")
    published = add_entry(service, "Market closes higher")
    service.store.entries.set_state(published, EntryState.PUBLISHED)

    page = editorial.held_queue(service.store)
    assert [i.id for i in page.items] == [first, second, third] and page.total == 3
    assert page.items[0].source_name == "Deccan Courier" and page.items[0].lang == "es"
    assert [(r.check, r.message) for r in page.items[0].errors] == [
        ("numbers", "numbers missing from the translation: 42")]

    assert [i.id for i in editorial.held_queue(service.store, reason="quotes").items] == [second]
    assert [i.id for i in editorial.held_queue(service.store, reason="numbers").items] == [first, third]
    assert editorial.held_queue(service.store, reason="numbers_").total == 0  # LIKE wildcards are literal
    tide = service.store.sources.find("https://tide.example/atom.xml")
    assert [i.id for i in editorial.held_queue(service.store, source_id=tide.id).items] == [second]
    assert editorial.held_queue(service.store, lang="hi").total == 0
    assert editorial.held_queue(service.store, lang="es").total == 3

    paged = editorial.held_queue(service.store, limit=2, offset=2)
    assert [i.id for i in paged.items] == [third] and paged.total == 3 and paged.next_offset is None
    assert editorial.held_queue(service.store, limit=2).next_offset == 2

    facets = editorial.queue_facets(service.store)
    assert [name for _, name in facets.sources] == ["Deccan Courier", "Konkan Tide"]
    assert facets.langs == ["es"] and "numbers" in facets.reasons


def test_the_reason_filter_reads_the_hold_reason_as_the_translate_stage_writes_it(service):
    flags = [Flag(check, "error", "a", "b", f"message of {check}") for check in editorial.REVIEW_CHECKS]
    reason = review_reason(TranslatedArticle(title="t", blocks=[], source_lang="en", target_lang="es",
                                             engine="x", flags=flags))
    assert reason is not None and reason.startswith(editorial.HELD_PREFIX)
    entry_id = held_entry(service)
    service.store.entries.set_state(entry_id, EntryState.HELD, error=reason)
    for check in editorial.REVIEW_CHECKS[:3]:  # the reason names the first three errors
        assert editorial.held_queue(service.store, reason=check).total == 1, check


def test_every_check_that_can_hold_an_article_is_a_reason_of_the_queue():
    source = "".join((Path(editorial.__file__).parent / "translate" / name).read_text()
                     for name in ("qa.py", "names.py"))
    holding = set(re.findall(r'flag\("(\w+)", "error"', source))
    holding |= set(re.findall(r'check="(\w+)",\s*severity="error"', source))
    assert holding and holding <= set(editorial.REVIEW_CHECKS)


# -- corrections -----------------------------------------------------------------------------------

def test_a_corrected_segment_is_a_human_memory_entry_and_qa_clears_its_flag(service):
    entry_id = held_entry(service)
    roads = segment(service, entry_id, ROADS)
    assert [f["check"] for f in roads["flags"]] == ["numbers"]

    edit = editorial.edit_segment(service.store, service.config, entry_id, roads["n"],
                                  "El consejo aprobó 42 carreteras.", editor="asha")
    assert edit.flags == [] and edit.remembered == 1
    fixed = segment(service, entry_id, ROADS)
    assert fixed["target"] == "El consejo aprobó 42 carreteras." and fixed["flags"] == []
    entry = service.store.entries.get(entry_id)
    assert entry.state == EntryState.HELD and entry.error is None  # held until approved, nothing wrong left
    assert service.store.entries.history(entry_id)[-1].reason == f"segment {roads['n']} corrected by asha"
    with service.store.engine.connect() as conn:
        rows = conn.execute(select(translation_memory).where(translation_memory.c.engine == HUMAN)).all()
    assert [(r.source_text, r.target_text, r.source_lang, r.target_lang) for r in rows] == [
        (ROADS, "El consejo aprobó 42 carreteras.", "en", "es")]
    # The next sentence kept its link.
    stored = service.store.translations.get(entry_id, "es")
    assert '<a href="https://courier.example/plan">' in stored.blocks[1].html
    assert stored.blocks[1].html.startswith("El consejo aprobó 42 carreteras. ")


def test_a_correction_that_still_loses_the_number_keeps_the_flag_and_the_reason(service):
    entry_id = held_entry(service)
    roads = segment(service, entry_id, ROADS)
    edit = editorial.edit_segment(service.store, service.config, entry_id, roads["n"],
                                  "El consejo aprobó muchas carreteras.", editor="asha")
    assert [f.check for f in edit.flags] == ["numbers"]
    assert "numbers" in service.store.entries.get(entry_id).error
    assert [f["check"] for f in segment(service, entry_id, ROADS)["flags"]] == ["numbers"]


def test_a_corrected_sentence_keeps_its_link_in_the_page_and_in_the_memory(service):
    entry_id = held_entry(service)
    link = segment(service, entry_id, "Work starts next week.")
    editorial.edit_segment(service.store, service.config, entry_id, link["n"],
                           "Las obras empiezan la semana próxima.", editor="asha")
    html = service.store.translations.get(entry_id, "es").blocks[1].html
    assert re.search(r'<a href="https://courier.example/plan">[^<]*próxima</a>\.$', html), html
    memory = SqlTranslationMemory(service.store.engine)
    key = MemoryKey("apertium", "", "en", "es", "Work starts <g1>next week</g1>.")
    remembered = memory.get_many([key])[key]
    assert re.fullmatch(r"Las obras empiezan .*<g1>.*próxima</g1>\.", remembered), remembered


def test_the_headline_and_bad_input_are_one_line_errors(service):
    entry_id = held_entry(service)
    editorial.edit_headline(service.store, service.config, entry_id, "El consejo aprueba 42 carreteras",
                            editor="asha")
    assert service.store.translations.get(entry_id, "es").title == "El consejo aprueba 42 carreteras"
    for bad in (lambda: editorial.edit_segment(service.store, service.config, entry_id, 99, "x", editor="a"),
                lambda: editorial.edit_segment(service.store, service.config, entry_id, 0, "  <g1> ", editor="a"),
                lambda: editorial.edit_headline(service.store, service.config, 10**6, "x", editor="a"),
                lambda: editorial.add_glossary_term(service.store, service.config, entry_id, "", "x", editor="a")):
        with pytest.raises(editorial.EditorialError) as raised:
            bad()
        assert "\n" not in str(raised.value)


def test_a_name_from_the_entry_becomes_a_glossary_entry_of_its_language(service):
    entry_id = held_entry(service)
    assert editorial.add_glossary_term(service.store, service.config, entry_id, " Deccan  Courier ",
                                       "Deccan Courier", editor="asha") == "es"
    assert service.store.glossary.terms("es") == {"Deccan Courier": "Deccan Courier"}
    assert "glossary" in service.store.entries.history(entry_id)[-1].reason


@needs_apertium
def test_a_retranslation_with_an_engine_of_the_chain_keeps_the_correction(service):
    entry_id = held_entry(service)
    roads = segment(service, entry_id, ROADS)
    editorial.edit_segment(service.store, service.config, entry_id, roads["n"], "Cuarenta y dos (42) carreteras.",
                           editor="asha")
    translated = editorial.retranslate(service.store, service.config, entry_id, "apertium", editor="asha")
    assert translated.blocks[1].html.startswith("Cuarenta y dos (42) carreteras.")
    assert "semana que viene</a>" in translated.blocks[1].html  # the rest is Apertium's, link and all
    assert segment(service, entry_id, ROADS)["target"] == "Cuarenta y dos (42) carreteras."
    assert service.store.entries.get(entry_id).state == EntryState.HELD
    assert service.store.entries.history(entry_id)[-1].reason == "re-translated with apertium by asha"
    with pytest.raises(editorial.EditorialError):
        editorial.retranslate(service.store, service.config, entry_id, "deepl", editor="asha")


@needs_apertium
def test_the_correction_wins_over_every_engine_that_translates_the_sentence_again(service):
    entry_id = held_entry(service)
    editorial.edit_segment(service.store, service.config, entry_id, segment(service, entry_id, ROADS)["n"],
                           "Se aprobaron 42 carreteras.", editor="asha")
    other = add_entry(service, "Another story")
    service.store.articles.save(other, Article(url="https://courier.example/b", title="Another story",
                                               blocks=[Block("paragraph", ROADS)]))
    Pipeline(service.store, service.config).run_stages([stage("translate")])
    assert service.store.translations.get(other, "es").blocks[0].html == "Se aprobaron 42 carreteras."


# -- decisions -------------------------------------------------------------------------------------

def test_an_entry_approved_for_a_time_is_not_published_before_it(service):
    entry_id = held_entry(service)
    now = datetime.now(UTC)
    assert editorial.approve(service.store, entry_id, at=now + timedelta(hours=2), editor="asha")
    assert service.store.entries.get(entry_id).state == EntryState.TRANSLATED
    assert "to be published after" in service.store.entries.history(entry_id)[-1].reason
    publish = Pipeline(service.store, service.config)
    publish.run_stages([stage("publish")], now=now + timedelta(hours=1))
    assert service.store.entries.get(entry_id).state == EntryState.TRANSLATED
    assert service.published_articles() == []
    publish.run_stages([stage("publish")], now=now + timedelta(hours=3))
    assert service.store.entries.get(entry_id).state == EntryState.PUBLISHED
    assert [a.id for a in service.published_articles()] == [entry_id]


def test_approve_now_or_in_the_past_publishes_on_the_next_run_and_only_held_entries(service):
    entry_id = held_entry(service)
    assert service.approve(entry_id, at=datetime.now(UTC) - timedelta(days=1))
    with service.store.engine.connect() as conn:
        assert conn.execute(select(entries.c.publish_after).where(entries.c.id == entry_id)).scalar() is None
    assert not service.approve(entry_id)  # no longer held
    Pipeline(service.store, service.config).run_stages([stage("publish")])
    assert service.store.entries.get(entry_id).state == EntryState.PUBLISHED


def test_reject_leaves_a_tombstone(service):
    entry_id = held_entry(service)
    assert editorial.reject(service, entry_id, editor="asha")
    assert service.store.entries.get(entry_id) is None
    with service.store.engine.connect() as conn:
        assert conn.execute(select(entries.c.deleted_at).where(entries.c.id == entry_id)).scalar() is not None
    assert editorial.held_queue(service.store).total == 0


def test_a_published_entry_corrected_and_republished_updates_the_site_target(service):
    entry_id = held_entry(service)
    service.approve(entry_id)
    Pipeline(service.store, service.config).run_stages([stage("publish")])
    before = service.store.publications.get(entry_id, "es", "site")
    assert before is not None and before.state == "published"
    n = segment(service, entry_id, ROADS)["n"]
    editorial.edit_segment(service.store, service.config, entry_id, n, "Se aprobaron 42 carreteras.", editor="asha")
    assert service.store.entries.get(entry_id).state == EntryState.PUBLISHED
    [article] = service.published_articles()
    assert "Se aprobaron 42 carreteras." in article.blocks[1].html
    report = editorial.republish(service, entry_id, editor="asha")
    assert report.updated == {"site": 1}
    after = service.store.publications.get(entry_id, "es", "site")
    assert after.revision != before.revision
    assert [a.id for a in service.search("aprobaron")] == [entry_id]
    with pytest.raises(editorial.EditorialError):
        editorial.republish(service, held_entry(service, "Tide turns"), editor="asha")


def test_publish_at_reads_a_datetime_local_field():
    assert editorial.parse_publish_at("") is None
    assert editorial.parse_publish_at("2031-05-04T09:30") == datetime(2031, 5, 4, 9, 30, tzinfo=UTC)
    for bad in ("tomorrow", "2031-13-04T09:30", "2031-05-04"):
        with pytest.raises(editorial.EditorialError):
            editorial.parse_publish_at(bad)

