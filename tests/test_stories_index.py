"""The story index: placing, reading, correcting, and surviving a restart (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import database_url
from sqlalchemy import insert, inspect, select

from samachar.errors import SamacharError
from samachar.store import Store
from samachar.store.schema import entries
from samachar.stories import Placement, StoryIndex, StoryItem, StorySettings

T0 = datetime(2026, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))

WIRE = [
    "KULLU, March 4 (Wire) - Thirty-eight passengers were killed when a state transport bus skidded off the "
    "Manali highway and plunged 300 metres into the Beas gorge near Aut tunnel on Wednesday morning.",
    "The bus, carrying 52 people from Mandi to Manali, lost control on a sharp bend at about 6.45 am, "
    "district magistrate Ritu Negi said. Fourteen injured were taken to the zonal hospital in Kullu.",
    "Rescue teams of the NDRF and local volunteers worked for six hours with ropes to bring bodies up the "
    "slope. Chief Minister Prakash Thakur announced relief of Rs 4 lakh for each family.",
    "Police said the driver, Harish Kumar, was among the dead. A magisterial inquiry has been ordered "
    "into the condition of the vehicle, which was fifteen years old.",
]
INDEPENDENT = [
    "Mandi, March 4: A Himachal roadways bus fell into a deep gorge along the Beas near Aut early on "
    "Wednesday, killing 38 people, the Kullu district administration said.",
    "Survivors told reporters that the bus was speeding on the bend before the Aut tunnel. District "
    "magistrate Ritu Negi said fourteen passengers were injured and admitted to hospital.",
    "The Chief Minister, Prakash Thakur, ordered a magisterial inquiry and announced Rs 4 lakh for the "
    "families of the dead. NDRF teams pulled bodies out of the gorge with ropes.",
]
OTHER = [
    "CHENNAI, March 4 - The Reserve Bank of India kept its policy repo rate unchanged at 6.25 per cent on "
    "Wednesday, saying inflation was easing but food prices remained volatile.",
    "Governor Meera Iyer said the monetary policy committee voted five to one to hold rates. Markets "
    "rose after the announcement, with the Sensex gaining 412 points.",
]


@pytest.fixture()
def store(tmp_path):
    store = Store(database_url(tmp_path))
    yield store
    store.close()


def add_entries(store: Store, count: int) -> list[int]:
    """Entries rows for the index to refer to (story_members and story_signatures point at entries)."""
    now = datetime.now(timezone.utc)
    source = store.sources.add(f"https://feeds.example/{now.timestamp()}")
    with store.engine.begin() as conn:
        return [conn.execute(insert(entries).values(
            source_id=source.id, key=f"k{now.timestamp()}-{n}", title=f"entry {n}", state="extracted",
            attempts=0, created_at=now, updated_at=now).returning(entries.c.id)).scalar_one() for n in range(count)]


def item(entry_id: int, paragraphs: list[str], title: str, hours: float = 0.0, lang: str = "en") -> StoryItem:
    return StoryItem(entry_id=entry_id, source_id=None, lang=lang, title=title, text="\n\n".join(paragraphs),
                     published=T0 + timedelta(hours=hours))


def test_migration_adds_the_story_tables_and_the_source_column(store):
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        columns = {c["name"] for c in inspect(conn).get_columns("sources")}
    assert {"stories", "story_members", "story_signatures"} <= tables
    assert "stories_mode" in columns
    assert store.version == 8


def test_an_entry_alone_has_a_story_of_one(store):
    (a,) = add_entries(store, 1)
    index = StoryIndex(store)
    placed = index.place(item(a, WIRE, "Bus falls into gorge"))
    assert placed.size == 1 and placed.near_duplicate_of is None and placed.score == 0.0
    assert index.story_of(a) is None
    assert index.members(placed.story_id) == [a]


def test_a_wire_copy_is_a_near_duplicate_and_joins_the_story(store):
    a, b, c = add_entries(store, 3)
    index = StoryIndex(store)
    first = index.place(item(a, WIRE, "38 killed as bus plunges into Beas gorge"))
    copy = index.place(item(b, ["KULLU (Wire) - " + WIRE[0].split(" - ", 1)[1]] + WIRE[1:3],
                            "Himachal bus tragedy: 38 dead", hours=2))
    other = index.place(item(c, OTHER, "RBI holds repo rate", hours=3))
    assert copy.story_id == first.story_id and copy.size == 2
    assert copy.near_duplicate_of == a and copy.score >= 0.5
    assert other.story_id != first.story_id and other.size == 1
    assert index.story_of(a) == index.story_of(b) == first.story_id
    assert index.story_of(c) is None
    assert index.members(first.story_id) == [a, b]


def test_an_independent_report_of_the_event_joins_but_not_as_a_copy(store):
    a, b = add_entries(store, 2)
    index = StoryIndex(store)
    first = index.place(item(a, WIRE, "38 killed as bus plunges into Beas gorge near Aut"))
    report = index.place(item(b, INDEPENDENT, "Bus falls into gorge near Aut, 38 dead", hours=5))
    assert report.story_id == first.story_id
    assert report.near_duplicate_of is None and report.score > 0


def test_outside_the_window_a_report_starts_its_own_story(store):
    a, b = add_entries(store, 2)
    index = StoryIndex(store, StorySettings(window_hours=24))
    first = index.place(item(a, WIRE, "38 killed as bus plunges into Beas gorge near Aut"))
    late = index.place(item(b, INDEPENDENT, "Bus falls into gorge near Aut, 38 dead", hours=30))
    assert late.story_id != first.story_id


def test_placing_again_returns_the_placement_and_place_many_keeps_order(store):
    a, b, c = add_entries(store, 3)
    index = StoryIndex(store)
    placed = index.place_many([item(a, WIRE, "Bus falls"), item(b, WIRE[:3], "Bus tragedy", hours=1),
                               item(c, OTHER, "RBI holds rate", hours=2)])
    assert [p.size for p in placed] == [1, 2, 1]  # the size right after each was placed
    assert placed[0].story_id == placed[1].story_id != placed[2].story_id
    again = index.place(item(b, WIRE[:3], "Bus tragedy", hours=1))
    assert again == Placement(placed[1].story_id, 2, a, placed[1].score)
    assert index.members(placed[0].story_id) == [a, b]


def test_split_and_merge_correct_the_machine(store):
    a, b, c = add_entries(store, 3)
    index = StoryIndex(store)
    story = index.place(item(a, WIRE, "Bus falls")).story_id
    index.place(item(b, WIRE[:3], "Bus tragedy", hours=1))
    other = index.place(item(c, OTHER, "RBI holds rate", hours=2)).story_id

    new = index.split(b)
    assert new not in (story, other)
    assert index.members(story) == [a] and index.members(new) == [b]
    assert index.story_of(a) is None and index.story_of(b) is None

    assert index.merge(a, c) == story
    assert index.members(story) == [a, c]
    assert index.story_of(c) == story
    assert all(row.story_id != other for row in index.stories())


def test_a_split_entry_stays_out_when_placed_again(store):
    a, b = add_entries(store, 2)
    index = StoryIndex(store)
    story = index.place(item(a, WIRE, "Bus falls")).story_id
    index.place(item(b, WIRE[:3], "Bus tragedy", hours=1))
    new = index.split(b)
    assert index.place(item(b, WIRE[:3], "Bus tragedy", hours=1)).story_id == new
    assert StoryIndex(store).place(item(b, WIRE[:3], "Bus tragedy", hours=1)).story_id == new
    assert index.members(story) == [a]


def test_stories_lists_with_members_first_seen_and_primary(store):
    a, b, c = add_entries(store, 3)
    index = StoryIndex(store)
    late = index.place(item(b, WIRE[:3], "Bus tragedy", hours=1))
    index.place(item(a, WIRE, "Bus falls", hours=-1))  # published earlier, placed later: it comes first
    alone = index.place(item(c, OTHER, "RBI holds rate", hours=2))
    index.set_primary(late.story_id, b)

    rows = index.stories()
    assert [row.story_id for row in rows] == [alone.story_id, late.story_id]  # the newest first
    story = rows[1]
    assert story.members == [a, b]
    assert story.first_seen_at == T0 - timedelta(hours=1)
    assert story.primary_entry_id == b
    assert [row.story_id for row in index.stories(min_size=2)] == [late.story_id]
    assert len(index.stories(limit=1)) == 1

    index.set_primary(late.story_id, None)
    assert index.stories(min_size=2)[0].primary_entry_id is None


def test_corrections_of_unknown_entries_are_clear_errors(store):
    a, b = add_entries(store, 2)
    index = StoryIndex(store)
    story = index.place(item(a, WIRE, "Bus falls")).story_id
    with pytest.raises(SamacharError, match="no story yet|in no story"):
        index.split(b)
    with pytest.raises(SamacharError, match="not in story"):
        index.set_primary(story, b)
    with pytest.raises(SamacharError, match="no story"):
        index.set_primary(story + 100, a)


def test_a_new_index_over_the_same_database_finds_the_same_neighbours_without_bodies(tmp_path):
    url = database_url(tmp_path)
    store = Store(url)
    a, b, c, d = add_entries(store, 4)
    index = StoryIndex(store)
    first = index.place(item(a, WIRE, "38 killed as bus plunges into Beas gorge near Aut"))
    store.close()

    store = Store(url)
    try:
        with store.engine.connect() as conn:  # no body is stored: only signatures and features
            assert conn.execute(select(entries.c.content_html).where(entries.c.id == a)).scalar() is None
        restarted = StoryIndex(store)
        copy = restarted.place(item(b, WIRE[:3], "Bus tragedy", hours=1))
        report = restarted.place(item(c, INDEPENDENT, "Bus falls into gorge near Aut, 38 dead", hours=5))
        other = restarted.place(item(d, OTHER, "RBI holds rate", hours=2))
        assert copy.near_duplicate_of == a and copy.story_id == first.story_id
        assert report.story_id == first.story_id
        assert other.story_id != first.story_id
    finally:
        store.close()


def test_placements_by_another_process_are_seen(store):
    a, b = add_entries(store, 2)
    one, two = StoryIndex(store), StoryIndex(store)
    first = one.place(item(a, WIRE, "Bus falls"))
    assert two.place(item(b, WIRE[:3], "Bus tragedy", hours=1)).near_duplicate_of == a
    assert one.members(first.story_id) == [a, b]


def test_devanagari_variants_match_as_one_text(store):
    a, b = add_entries(store, 2)
    index = StoryIndex(store)
    hindi = ["कुल्लू, ४ मार्च। मनाली राजमार्ग पर बुधवार सुबह एक बस ब्यास नदी की गहरी खाई में गिर गई, जिसमें ३८ यात्रियों की मौत हो गई।",
             "ज़िला मजिस्ट्रेट ऋतु नेगी ने बताया कि बस में ५२ लोग सवार थे और चौदह घायलों को अस्पताल ले जाया गया।",
             "मुख्यमंत्री प्रकाश ठाकुर ने हर परिवार को चार लाख रुपये की राहत की घोषणा की और जाँच के आदेश दिए।"]
    variant = [p.replace("ज़िला", "जिला").replace("३८", "38").replace("५२", "52").replace("जाँच", "जांच")
               .replace("४", "4") for p in hindi]
    first = index.place(item(a, hindi, "कुल्लू में बस खाई में गिरी", lang="hi"))
    copy = index.place(item(b, variant, "बस हादसा: ३८ की मौत", hours=1, lang="hi"))
    assert copy.story_id == first.story_id and copy.near_duplicate_of == a
    assert copy.score == 1.0


def test_fold_makes_spelling_variants_one_word():
    from samachar.stories.text import words

    assert words("Toll rises to 1,200 in KULLU; “enough”") == ("toll", "rises", "to", "1200", "in", "kullu", "enough")
    assert words("१२० ज़िला साँप ड्राइ\u200dवर") == words("120 जिला सांप ड्राइवर")
    assert words("Café 1,20,000") == ("cafe", "120000")


def test_the_similarity_is_found_by_name_and_a_bad_name_is_a_clear_error(store):
    from samachar.stories import LexicalSimilarity, StorySimilarity
    from samachar.stories.index import load_similarity

    assert isinstance(load_similarity("lexical"), LexicalSimilarity)
    assert isinstance(load_similarity("samachar.stories.similarity:LexicalSimilarity"), StorySimilarity)
    with pytest.raises(SamacharError, match="unknown similarity 'nope'"):
        StoryIndex(store, StorySettings(similarity="nope"))


class TitleOnly:
    """A similarity of our own: same title words, same story (the protocol, nothing more)."""

    name = "title-only"
    threshold = 0.5

    def features(self, item):
        return frozenset(item.title.lower().split())

    def encode(self, features):
        return " ".join(sorted(features)).encode()

    def decode(self, data):
        return frozenset(data.decode().split())

    def keys(self, features):
        return [hash(w) & 0xFFFF for w in features]  # stable within a process: enough for this test

    def add(self, features):
        pass

    def remove(self, features):
        pass

    def score(self, a, b):
        return len(a & b) / max(1, min(len(a), len(b)))


def test_a_pluggable_similarity_decides_same_story(store):
    a, b, c = add_entries(store, 3)
    index = StoryIndex(store, StorySettings(similarity=f"{__name__}:TitleOnly"))
    first = index.place(item(a, WIRE, "bus falls into gorge near aut"))
    same = index.place(item(b, OTHER, "gorge bus falls near aut", hours=1))  # other text, same title words
    other = index.place(item(c, INDEPENDENT, "rbi holds repo rate", hours=2))
    assert same.story_id == first.story_id and same.near_duplicate_of is None and same.score == 1.0
    assert other.story_id != first.story_id
