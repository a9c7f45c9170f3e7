"""The site service: the admin actions the CLI, the demo and the web app share, on a real store."""

from __future__ import annotations

import urllib.request

import pytest
from conftest import database_url
from site_data import loopback

from samachar.cli import main
from samachar.config import Config, SiteConfig
from samachar.model import Article, Block, EntryState, FeedEntry, TranslatedArticle
from samachar.service import SiteService
from samachar.sources.identity import entry_identity
from samachar.store import Store


@pytest.fixture
def service(tmp_path):
    config = Config(home=tmp_path, site=SiteConfig(language="es", title="Noticias", base_url="https://n.example/"),
                    default_policy="full")
    store = Store(database_url(tmp_path))
    yield SiteService(store, config)
    store.close()


def add_entry(service: SiteService, title: str) -> int:
    source = service.store.sources.add("https://hillpost.example/feed.xml")
    entry = FeedEntry(title=title, url=f"https://hillpost.example/{title.split()[0].lower()}")
    [entry_id] = service.store.entries.add_many(source.id, [(entry, entry_identity(entry, source.id))])
    return entry_id


def publish(service: SiteService, title: str, text: str) -> int:
    """An entry taken through extraction, translation and publishing by hand."""
    entry_id = add_entry(service, title)
    service.store.articles.save(entry_id, Article(url="https://hillpost.example/x", title=title,
                                                  blocks=[Block("paragraph", text)]))
    service.store.translations.save(entry_id, TranslatedArticle(
        title=f"ES {title}", blocks=[Block("paragraph", f"ES {text}")], source_lang="en", target_lang="es",
        engine="test"), state=EntryState.TRANSLATED)
    assert service.store.posts.publish(entry_id, "es", title)
    service.index_for_search([entry_id])
    return entry_id


def test_approve_retry_and_release_move_only_entries_in_the_right_state(service):
    entry_id = add_entry(service, "Council approves road repairs")
    entries = service.store.entries
    assert not service.approve(entry_id) and not service.release(entry_id) and service.retry(entry_id) is None
    entries.set_state(entry_id, EntryState.HELD, error="held for review: numbers: 42 missing")
    assert service.approve(entry_id) and entries.get(entry_id).state == EntryState.TRANSLATED
    entries.set_state(entry_id, EntryState.FAILED, error="page not fetched: HTTP 404")
    assert service.retry(entry_id) == EntryState.NEW and entries.get(entry_id).attempts == 0
    entries.set_state(entry_id, EntryState.FILTERED, error="filtered by the source's rules: x")
    assert service.release(entry_id) and entries.was_released(entry_id)
    assert [e.reason for e in entries.history(entry_id)][-1].startswith("released by an editor")


def test_delete_unpublishes_drops_from_search_and_rebuilds_a_built_site(service):
    keep = publish(service, "Bridge reopens in Solan", "The old bridge in Solan reopened on Tuesday.")
    victim = publish(service, "Council approves road repairs", "The council in Shimla approved repairs.")
    assert [a.id for a in service.search("Shimla")] == [victim]
    assert service.build(service.config.site_dir) > 0
    slug = next(a.slug for a in service.published_articles() if a.id == victim)
    assert (service.config.site_dir / "articles" / slug / "index.html").exists()
    assert service.delete(victim) and not service.delete(10**6)
    assert [a.id for a in service.published_articles()] == [keep]
    assert service.search("Shimla") == [] and [a.id for a in service.search("Solan")] == [keep]
    assert not (service.config.site_dir / "articles" / slug).exists()  # the home's built site followed


def test_the_served_site_searches_through_the_service(service):
    publish(service, "Council approves road repairs", "The council in Shimla approved repairs.")
    with (loopback.serve_app(service.create_app()) as url,
          urllib.request.urlopen(url.rstrip("/") + "/search?q=Shimla", timeout=10) as response):
        page = response.read().decode("utf-8")
    assert "ES Council approves road repairs" in page


def test_the_cli_and_the_demo_call_the_service_not_the_pipeline():
    """The runner runs stages; admin actions live in one place (a regression guard on the split)."""
    import inspect

    from samachar import cli, pipeline
    from samachar.demo import run as demo

    for name in ("approve", "delete", "retry", "release", "build_site", "create_app", "search"):
        assert not hasattr(pipeline.Pipeline, name), name
    for module in (cli, demo):
        source = inspect.getsource(module)
        assert "SiteService" in source and "build_site(" not in source and ".create_app()" in source


def test_entry_delete_on_the_command_line_rebuilds_the_homes_site(tmp_path, capsys):
    config = Config(home=tmp_path, site=SiteConfig(language="es", title="Noticias"), default_policy="full")
    assert main(["--home", str(tmp_path), "init", "--language", "es", "--engine", "apertium",
                 "--base-url", "https://n.example/"]) == 0
    service = SiteService(Store(f"sqlite:///{tmp_path / 'samachar.db'}"), config)
    entry_id = publish(service, "Council approves road repairs", "The council in Shimla approved repairs.")
    assert main(["--home", str(tmp_path), "build"]) == 0
    assert list((tmp_path / "site" / "articles").iterdir())
    assert main(["--home", str(tmp_path), "entry", "delete", str(entry_id)]) == 0
    assert "deleted" in capsys.readouterr().out
    articles = tmp_path / "site" / "articles"
    assert not articles.exists() or not list(articles.iterdir())
    assert (tmp_path / "site" / "index.html").exists()
    service.store.close()
