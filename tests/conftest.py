import sys
from pathlib import Path

import pytest

# Test helpers (loopback servers, test engines) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"

import os  # noqa: E402

# SAMACHAR_TEST_DATABASE_URL (e.g. postgresql+psycopg://…) runs the store and pipeline tests on
# that database instead of a SQLite file, to keep the SQL portable; .ci/run sets it when it can
# start a PostgreSQL server.
TEST_DATABASE_URL = os.environ.get("SAMACHAR_TEST_DATABASE_URL")
# No test asks the public model index (the demo would): a closed loopback port refuses at once.
os.environ["SAMACHAR_MODEL_INDEX"] = "http://127.0.0.1:9/index.json"
_cleared: set[str] = set()


def database_url(tmp_path: Path) -> str:
    """The database for one test: a SQLite file in ``tmp_path``, or the shared test database emptied."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / 'samachar.db'}"
    if str(tmp_path) not in _cleared:
        from sqlalchemy import create_engine, inspect

        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            for table in inspect(conn).get_table_names():
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
        engine.dispose()
        _cleared.add(str(tmp_path))
    return TEST_DATABASE_URL


@pytest.fixture(scope="module")
def articles():
    """The site tests' sample Hindi articles (tests/data/site/samples.py)."""
    from site_data import samples

    return samples.sample_articles()


@pytest.fixture(scope="module")
def pages(articles):
    """Every page of the sample site, rendered."""
    from site_data import BASE

    from samachar.config import SiteConfig
    from samachar.publish.site import render_site

    return render_site(articles, SiteConfig(base_url=BASE, per_page=3))


@pytest.fixture(autouse=True)
def _close_stores(monkeypatch):
    """Closes every Store a test opened: a helper's Pipeline or an in-process command leaves its own open, and on
    PostgreSQL an open pool is a live connection, reported (ResourceWarning) whenever it is collected."""
    from samachar.store import Store

    opened = []
    open_store = Store.__init__

    def tracked(self, *args, **kwargs):
        open_store(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Store, "__init__", tracked)
    yield
    for store in opened:
        store.close()
