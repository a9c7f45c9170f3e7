"""What keeps story clustering fast at scale: batch NumPy steps, and SQL per batch, not per item or story."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from conftest import database_url
from sqlalchemy import event
from test_stories_index import OTHER, WIRE, add_entries, item

from samachar.store import Store
from samachar.stories import StoryIndex, minhash
from samachar.stories.similarity import LexicalSimilarity
from samachar.stories.text import word_hashes


@pytest.fixture()
def store(tmp_path):
    store = Store(database_url(tmp_path))
    yield store
    store.close()


def test_signatures_of_a_batch_are_those_of_each_text():
    texts = ["\n\n".join(WIRE), "\n\n".join(OTHER), "", "one", "\n\n".join(WIRE[:2])]
    shingled = [minhash.shingles(word_hashes(text)) for text in texts]
    batch = minhash.signatures(shingled)
    assert batch.shape == (len(texts), minhash.PERMUTATIONS)
    for row, hashes in zip(batch, shingled, strict=True):
        assert np.array_equal(row, minhash.signature(hashes))
    keys = minhash.band_keys(batch)
    assert keys.shape == (len(texts), minhash.BANDS)
    assert (keys[0] == keys[4]).sum() >= 1 > (keys[0] == keys[1]).sum()  # a copy shares a band, another text none


def test_document_frequencies_return_to_nothing_when_every_item_leaves():
    similarity = LexicalSimilarity()
    features = [similarity.features(item(n, paragraphs, "Bus falls", hours=n))
                for n, paragraphs in enumerate((WIRE, OTHER, WIRE[:2]))]
    for f in features:
        similarity.add(f)
    shared = next(iter(features[0].terms & features[2].terms))
    assert similarity._df[shared & (similarity._df.size - 1)] == 2
    for f in features:
        similarity.remove(f)
    assert not similarity._df.any()


def test_a_batch_costs_the_same_statements_however_many_stories_it_joins(store):
    """Placing follow-ups of many stories at once: one statement per table, not one per story joined."""
    index = StoryIndex(store)

    def statements_for(count: int, hours: float) -> int:
        def story(n: int) -> list[str]:  # a text of its own per story: no two stories share a word
            return [" ".join(f"w{hours:.0f}s{n}p{p}k{k}" for k in range(30)) for p in range(4)]

        firsts = add_entries(store, count)
        index.place_many([item(e, story(n), f"Story {n}", hours=hours) for n, e in enumerate(firsts)])
        copies = add_entries(store, count)
        seen: list[str] = []

        def count_statement(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(store.engine, "before_cursor_execute", count_statement)
        try:
            placed = index.place_many([item(e, story(n)[:3], f"Copy {n}", hours=hours + 1)
                                       for n, e in enumerate(copies)])
        finally:
            event.remove(store.engine, "before_cursor_execute", count_statement)
        assert all(p.size == 2 for p in placed)  # each copy joined the story of its own first report
        return len(seen)

    few = statements_for(2, hours=0)
    many = statements_for(12, hours=timedelta(days=30).total_seconds() / 3600)
    assert many == few


def _words_of_whole_text(text: str) -> tuple[str, ...]:
    """The words as the whole text folded once and split by the word expression give them (the reference)."""
    from samachar.stories import text as folding

    folded = folding.fold(text)
    found = (folding._ASCII_WORD if folded.isascii() else folding._WORD).findall(folded)
    return tuple(w.strip("_") for w in found if w.strip("_"))


@pytest.mark.parametrize("text", [
    "The Minister said 1,200 people (or 1,20,000) were moved; Café ＡＢＣ naïve Straße KELVIN \u212a",
    "मंत्री ने कहा कि १२०० लोग क़िले में थे। ज़िले में चाँद और चांद zero\u200bwidth soft\u00adhyphen",
    "снег ПАДАЛ 3.5 mm __init__ snake_case _lead trail_ x_ \u00a8 \ufb01ne \u0301accent   tabs\tand\nlines",
    "", "   ", "1,2,3 4.5.6 a,b",
])
def test_words_split_per_token_are_those_of_the_whole_text(text):
    from samachar.stories import text as folding

    assert folding.words(text) == _words_of_whole_text(text)
    assert folding.word_hashes(text) == tuple(folding.term(w) for w in _words_of_whole_text(text))


def test_figures_and_names_do_not_fill_the_word_caches():
    """Figures ("3075 votes") and names are hashed without being remembered: the caches hold words only."""
    from samachar.stories import text as folding

    similarity = LexicalSimilarity()
    folding._TERMS.clear()
    features = similarity.features(item(1, [f"Ravi Kumar won by {n} votes in Rampur." for n in range(3001, 3040)],
                                        "Ravi Kumar wins", hours=0))
    assert features.figures and features.names
    assert all(" " not in word for word in folding._TERMS)
