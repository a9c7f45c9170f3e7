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


def test_signatures_from_words_of_a_batch_are_those_of_each_text():
    """The shingles of a whole batch are made in one pass; windows across two texts must not count."""
    texts = ["\n\n".join(WIRE), "", "one", "one two", "\n\n".join(OTHER), "one two three", "\n\n".join(WIRE[:2])]
    hashed = [word_hashes(text) for text in texts]
    batch = minhash.signatures_of_words(hashed)
    for row, words_hashed in zip(batch, hashed, strict=True):
        assert np.array_equal(row, minhash.signature(minhash.shingles(words_hashed)))
    assert minhash.signatures_of_words([]).shape == (0, minhash.PERMUTATIONS)


def test_document_frequencies_return_to_nothing_when_every_item_leaves():
    similarity = LexicalSimilarity()
    features = [similarity.features(item(n, paragraphs, "Bus falls", hours=n))
                for n, paragraphs in enumerate((WIRE, OTHER, WIRE[:2]))]
    for f in features:
        similarity.add(f)
    shared = int(np.intersect1d(features[0].part("terms"), features[2].part("terms"))[0])
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


def _fold_every_step(text: str) -> str:
    """Folding with every step taken, none skipped by a quick search (the reference)."""
    import unicodedata

    from samachar.stories import text as folding

    text = folding._GROUPED.sub(r"\1", text)
    text = folding._INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", folding._MARKS.sub("", unicodedata.normalize("NFKD", text)))
    return text.translate(folding._digit_table()).translate(folding._DEVANAGARI).casefold()


@pytest.mark.parametrize("text", [
    "The Minister said 1,200 people (or 1,20,000) were moved; Café ＡＢＣ naïve Straße KELVIN \u212a",
    "मंत्री ने कहा कि १२०० लोग क़िले में थे। ज़िले में चाँद और चांद zero\u200bwidth soft\u00adhyphen",
    "снег ПАДАЛ 3.5 mm __init__ snake_case _lead trail_ x_ \u00a8 \ufb01ne \u0301accent   tabs\tand\nlines",
    "“Curly” quotes — and dashes… only", "٣٤ digits ١٢٣, ௧௨ and ๑๒", "", "   ", "1,2,3 4.5.6 a,b",
    "Cafe\u0301 man\u0303ana A\u030angstro\u0308m ＡＢＣ１,２００ x\u200d\u0301y 한국어 ᄒ\u1161\u11ab",
])
def test_folding_skips_only_steps_with_nothing_to_do(text):
    """fold() folds each run outside ASCII alone, and takes a step only where a quick search finds work for it;
    the result is that of every step over the whole text."""
    from samachar.stories import text as folding

    assert folding.fold(text) == _fold_every_step(text)
    folded = _fold_every_step(text)
    found = (folding._ASCII_WORD if folded.isascii() else folding._WORD).findall(folded)
    expected = tuple(w.strip("_") for w in found if w.strip("_"))
    assert folding.words(text) == expected
    assert folding.word_hashes(text) == tuple(folding.term(w) for w in expected)


def test_figures_and_names_are_hashed_as_stored_features_were():
    """Features kept in the database (story_signatures) were hashed with CRC-32 of the folded text: a restart
    after an upgrade must find the same keys, so the hash of words, names and figures is pinned."""
    import zlib

    from samachar.stories import text as folding

    similarity = LexicalSimilarity()
    features = similarity.features(item(1, [f"Ravi Kumar won by {n} votes in Rampur." for n in range(3001, 3004)],
                                        "Ravi Kumar wins", hours=0))
    figures, names, terms = (set(features.part(p).tolist()) for p in ("figures", "names", "terms"))
    assert zlib.crc32(b"3001 votes") in figures and zlib.crc32(b"3003 votes") in figures
    assert zlib.crc32(b"ravi kumar") in names and zlib.crc32(b"rampur") in names
    assert zlib.crc32(b"rampur") in terms and zlib.crc32(b"in") not in terms  # a stop word
    assert folding.word_hashes("Ravi’s 1,200") == (zlib.crc32(b"ravi"), zlib.crc32(b"s"), zlib.crc32(b"1200"))


def test_features_read_back_are_those_placed():
    """A restart rebuilds the index from stored features: read back, they file and score as when placed."""
    similarity = LexicalSimilarity()
    placed = [similarity.features(item(n, paragraphs, title, hours=n))
              for n, (paragraphs, title) in enumerate(((WIRE, "Bus falls into gorge"), (OTHER, "Council meets")))]
    for features in placed:
        similarity.add(features)
    read = [similarity.decode(similarity.encode(f)) for f in placed]
    for live, back in zip(placed, read, strict=True):
        assert np.array_equal(similarity.keys(live), similarity.keys(back))
        assert np.array_equal(live.keyed, back.keyed) and live.sizes == back.sizes
        assert len(similarity.keys(live)) == len(set(similarity.keys(live).tolist()))  # each key once
    assert similarity.score(placed[0], placed[1]) == similarity.score(read[0], read[1])


def test_lsh_buckets_of_one_and_of_many_come_and_go():
    """A bucket of one key is the key itself, of more a list; copies share buckets, and all go on removal."""
    texts = ["\n\n".join(WIRE), "\n\n".join(WIRE[:2]), "\n\n".join(WIRE), "\n\n".join(OTHER)]
    sigs = minhash.signatures_of_words([word_hashes(text) for text in texts])
    lsh = minhash.MinHashLSH()
    for key, sig in enumerate(sigs, start=1):
        lsh.add(key, sig)
    assert any(isinstance(b, list) for b in lsh._buckets.values())  # the copies share bands
    assert lsh.best(sigs[0], 0.9)[0] == 1 and lsh.best(sigs[3], 0.9)[0] == 4
    lsh.remove(1)
    assert lsh.best(sigs[0], 0.9)[0] == 3  # the other copy, from a bucket now of fewer keys
    for key in (3, 2, 4):
        lsh.remove(key)
    assert not lsh._buckets and len(lsh) == 0 and lsh.best(sigs[0], 0.1) is None


def test_long_runs_outside_ascii_are_folded_but_not_remembered():
    """A script written without spaces makes a run of a whole line: folded, not kept in the table of runs."""
    from samachar.stories import text as folding

    line = "新华社北京电国务院总理今天主持召开常务会议" * 5
    assert folding.fold(f"Xinhua: {line}.") == f"xinhua: {line}."
    assert line not in folding._RUNS
    folding.fold("it’s")
    assert folding._RUNS["’"] == "’"
