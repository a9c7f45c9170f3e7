"""B-cubed precision and recall against small cases worked out by hand."""

from __future__ import annotations

import pytest

from samachar.stories.evaluate import Labeled, bcubed, exact_dedupe, near_dup_labels

GOLD = {"a": 1, "b": 1, "c": 2, "d": 2, "e": 2}


def test_a_perfect_clustering_scores_one():
    score = bcubed({"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}, GOLD)
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)


def test_everything_in_one_cluster():
    # a, b: 2 of the 5 in their cluster share their story; c, d, e: 3 of 5. Each finds its whole story.
    score = bcubed(dict.fromkeys(GOLD, "all"), GOLD)
    assert score.precision == pytest.approx((2 / 5 * 2 + 3 / 5 * 3) / 5)  # 0.52
    assert score.recall == 1.0
    assert score.f1 == pytest.approx(2 * 0.52 / 1.52)


def test_every_item_alone():
    score = bcubed({item: item for item in GOLD}, GOLD)
    assert score.precision == 1.0
    assert score.recall == pytest.approx((1 / 2 * 2 + 1 / 3 * 3) / 5)  # 0.4


def test_a_wrong_merge_and_a_missed_one():
    # clusters {a}, {b, c}: a: P 1, R 1/2; b: P 1/2, R 1/2; c: P 1/2, R 1.
    score = bcubed({"a": "x", "b": "y", "c": "y"}, {"a": 1, "b": 1, "c": 2})
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)


def test_the_clustering_must_cover_the_labeled_items():
    with pytest.raises(ValueError):
        bcubed({"a": 1}, {"a": 1, "b": 1})


def _record(id_: str, url: str, body: str, near_dup: str | None = None) -> Labeled:
    from datetime import datetime, timezone

    return Labeled(id_, id_[0], near_dup, "wire", url, "en", datetime(2026, 1, 1, tzinfo=timezone.utc), "t", (body,))


def test_exact_dedupe_matches_only_a_repeated_url_or_body():
    records = [_record("a1", "https://a.example/1", "text one"), _record("a2", "https://b.example/2", "text one"),
               _record("a3", "https://a.example/1", "text two"), _record("a4", "https://c.example/4", "text three")]
    assert exact_dedupe(records) == {"a1": "a1", "a2": "a1", "a3": "a1", "a4": "a4"}


def test_a_null_near_dup_label_is_a_group_of_its_own():
    records = [_record("a1", "u1", "x", "w"), _record("a2", "u2", "y", "w"), _record("a3", "u3", "z"),
               _record("a4", "u4", "z")]
    labels = near_dup_labels(records)
    assert labels["a1"] == labels["a2"] and len({labels["a3"], labels["a4"], labels["a1"]}) == 3
