"""The desk's SVG charts: well-formed, to scale, escaped, accessible, nothing the CSP would block."""

from __future__ import annotations

import pytest
from lxml import etree

from samachar.web.admin.charts import SVG_NS, bar_chart, sparkline, stacked_bars

HOSTILE = '<script>alert("x")</script> & "quoted" \'single\''
NS = {"s": SVG_NS}


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode("utf-8"))  # raises on anything not well-formed


def charts(label: str = HOSTILE) -> list[str]:
    return [
        bar_chart([(label, 3), ("2026-01-02", 0), ("2026-01-03", 12)], title=label, unit=" s"),
        stacked_bars([(label, {"published": 5, "held": 2}), ("Other", {"failed": 1})], ["published", "held", "failed"],
                     title=label),
        sparkline([1, 5, 2, 8], title=label),
    ]


@pytest.mark.parametrize("index", range(3))
def test_every_chart_is_well_formed_svg_with_an_accessible_name_and_its_numbers(index):
    svg = charts()[index]
    root = parse(svg)
    assert root.tag == f"{{{SVG_NS}}}svg" and root.get("role") == "img"
    assert root.find("s:title", NS).text == HOSTILE == root.get("aria-label")
    assert root.find("s:desc", NS).text.strip()
    assert not root.xpath("//s:script | //*[local-name()='script'] | //@style | //@*[starts-with(name(), 'on')]",
                          namespaces=NS)


def test_text_is_escaped_not_markup():
    for svg in charts():
        assert "<script>" not in svg
        root = parse(svg)
        texts = [t for t in root.itertext()]
        assert any(HOSTILE in t for t in texts)  # shown as the text it is


def test_bars_are_to_scale_and_say_their_values():
    root = parse(bar_chart([("a", 5), ("b", 10), ("c", 0)], title="segments"))
    bars = root.findall("s:rect", NS)
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == max(heights) and heights[0] == pytest.approx(heights[1] / 2) and heights[2] == 0
    assert [b.find("s:title", NS).text for b in bars] == ["a: 5", "b: 10", "c: 0"]
    assert "a: 5; b: 10; c: 0" == root.find("s:desc", NS).text


def test_stacked_parts_follow_the_keys_and_one_scale():
    root = parse(stacked_bars([("one", {"published": 6, "held": 2}), ("two", {"published": 4})],
                              ["published", "held"], title="states"))
    parts = root.findall("s:rect", NS)
    assert [p.get("class").split()[1:] for p in parts] == [["series-0", "key-published"], ["series-1", "key-held"],
                                                           ["series-0", "key-published"]]
    widths = [float(p.get("width")) for p in parts]
    assert widths[0] == pytest.approx(3 * widths[1]) and widths[2] == pytest.approx(widths[0] * 4 / 6)
    assert root.find("s:desc", NS).text == "one: published 6, held 2; two: published 4"


def test_empty_data_still_draws_a_valid_chart():
    for svg in (bar_chart([], title="none"), stacked_bars([], ["a"], title="none"), sparkline([], title="none")):
        assert parse(svg).find("s:desc", NS).text == "no data"


def test_a_sparkline_runs_from_lowest_to_highest():
    root = parse(sparkline([0, 10], title="t", height=24))
    points = [tuple(map(float, p.split(","))) for p in root.find("s:polyline", NS).get("points").split()]
    assert points[0][1] == 22 and points[1][1] == 2
