"""Inline HTML ⇄ tagged text, and the repair of what engines do to tags."""

from __future__ import annotations

from collections import Counter

from samachar.translate.markup import (
    TAG_RE,
    html_to_tagged,
    parse,
    project,
    renumber,
    restore,
    strip_tags,
    tagged_to_html,
)


def tag_counts(text: str) -> Counter:
    return Counter(m.group(0) for m in TAG_RE.finditer(text))


def assert_each_tag_once(result: str, source: str) -> None:
    assert tag_counts(result) == tag_counts(source)
    spans = parse(result)
    assert not spans.problems
    for tag_id, occurrences in spans.pairs.items():
        assert len(occurrences) == 1
        start, end = occurrences[0]
        assert spans.text[start:end].strip(), f"{tag_id} wraps no text"


def test_round_trip_keeps_elements_attributes_and_entities():
    html = 'A <a href="https://x.example/?a=1&amp;b=2" title="T &quot;q&quot;">big <em>world</em></a> &amp; co<br>done <img src="a.png" alt="">.'
    tagged = html_to_tagged(html)
    assert tagged.text == "A <g1>big <g2>world</g2></g1> & co<x3/>done <x4/>."
    assert tagged.tags["g1"].attrs == (("href", "https://x.example/?a=1&b=2"), ("title", 'T "q"'))
    back = tagged_to_html(tagged.text, tagged.tags)
    assert html_to_tagged(back) == tagged
    assert 'href="https://x.example/?a=1&amp;b=2"' in back


def test_plain_text_with_less_than_is_escaped_on_the_way_back():
    tagged = html_to_tagged("5 &lt; 6 and <b>bold</b>")
    assert tagged.text == "5 < 6 and <g1>bold</g1>"
    assert tagged_to_html(tagged.text, tagged.tags) == "5 &lt; 6 and <b>bold</b>"


def test_renumber_is_local_and_reversible():
    local, mapping = renumber("x <g4>a</g4> <x7/> <g9>b</g9>")
    assert local == "x <g1>a</g1> <x2/> <g3>b</g3>"
    assert mapping == {"g1": "g4", "x2": "x7", "g3": "g9"}


def test_duplicated_span_is_merged():
    # Apertium wraps two separated words in the same link when it reorders.
    source = "funded by the <g1>Union government</g1>, with"
    result = restore("financiado por el <g1>gobierno</g1> de <g1>Unión</g1>, con", source)
    assert result.text == "financiado por el <g1>gobierno de Unión</g1>, con"
    assert result.notes and not result.problems
    assert_each_tag_once(result.text, source)


def test_dropped_tag_is_reattached_around_its_text_when_present():
    source = "Data flows to <g1>New Delhi</g1> soon."
    result = restore("Los datos fluyen a New Delhi pronto.", source)
    assert result.text == "Los datos fluyen a <g1>New Delhi</g1> pronto."
    assert result.problems  # reported, so the segment is flagged


def test_dropped_tag_is_reattached_by_position_and_reported():
    source = "The <g1>first</g1> words of a sentence here."
    result = restore("Las primeras palabras de una frase aquí.", source)
    assert_each_tag_once(result.text, source)
    assert strip_tags(result.text) == "Las primeras palabras de una frase aquí."
    assert any("by position" in p for p in result.problems)


def test_unknown_extra_and_unclosed_tags_are_cleaned():
    source = "A <g1>b</g1> c<x2/> d."
    result = restore("A <g1>b c<x2/> d<x2/> <g7>e</g7>.", source)
    assert_each_tag_once(result.text, source)
    assert strip_tags(result.text) == "A b c d e."
    assert result.problems


def test_crossing_tags_are_nested_as_in_the_source():
    source = "<g1>one <g2>two</g2></g1> three"
    result = restore("<g1>uno <g2>dos</g1> tres</g2>", source)
    assert_each_tag_once(result.text, source)
    spans = parse(result.text)
    (s1, e1), (s2, e2) = spans.pairs["g1"][0], spans.pairs["g2"][0]
    assert s1 <= s2 and e2 <= e1


def test_empty_span_gets_a_word():
    source = "Read <g1>this</g1> now."
    result = restore("Lee <g1></g1>esto ahora.", source)
    assert_each_tag_once(result.text, source)


def test_projection_keeps_plain_text_and_places_tags_on_aligned_words():
    source = "The <g1>Moscow</g1> talks"
    result = project("El <g1>Moscú</g1> Charlas", "Las charlas de Moscú", source)
    assert result.text == "Las charlas de <g1>Moscú</g1>"


def test_projection_merges_apertium_duplicates_before_aligning():
    source = "funded by the state and the <g1>Union government</g1>, with the rest."
    tagged = "financiado por el estatal y el <g1>gobierno</g1> de <g1>Unión</g1>, con el resto."
    plain = "financiado por el estatal y el gobierno de Unión, con el resto."
    result = project(tagged, plain, source)
    assert result.text == "financiado por el estatal y el <g1>gobierno de Unión</g1>, con el resto."
    assert not result.problems
