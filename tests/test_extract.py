"""Extraction: structure, sanitizing, metadata and attribution, the feed fallback."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from samachar.errors import ExtractionError
from samachar.extract import article_from_feed, blocks_from_html, extract_article
from samachar.extract.metadata import canonical_or_none, parse_datetime, plausible_host
from samachar.model import Article, FeedEntry, blocks_to_html

DATA = Path(__file__).resolve().parent / "data" / "extract"
HOSTILE_URL = "https://riversidecourier.example/news/flood-barrier-holds?utm_source=feed"
GRAPH_URL = "https://nagarsamachar.example/nagar/2024/07/baarish"


def _page(title: str, head: str = "", body: str = "") -> str:
    """A small article page; the body is long enough for trafilatura to take it as the article."""
    paragraphs = body or "".join(
        f"<p>Paragraph {n} of the story says that the council met on Monday and voted on the new budget "
        f"for roads, schools and the water supply of the district, after a long debate.</p>"
        for n in range(1, 6)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Contact us</footer></body></html>"
    )


# -- blocks ---------------------------------------------------------------------------
def test_blocks_keep_structure_and_inline_markup():
    fragment = """
      <h2>Markets <em>rally</em></h2>
      <p>Shares rose <strong>3%</strong> after the <a href="/report">central bank report</a>,
         said <q>analysts</q>.<br>New line.</p>
      <blockquote><p>“Rates will stay,” the governor said.</p></blockquote>
      <ul><li>First <b>item</b></li><li>Second</li></ul>
      <ol><li>One</li></ol>
      <figure><img src="/img/chart.png" alt="A chart" width="640" height="480">
        <figcaption>The index, <a href="https://data.example/idx">source</a></figcaption></figure>
      <pre>x = 1
y = 2</pre>
      loose tail text
    """
    blocks = blocks_from_html(fragment, "https://news.example/markets/today")
    kinds = [b.kind for b in blocks]
    assert kinds == ["heading", "paragraph", "quote", "list_item", "list_item", "list_item", "figure",
                     "preformatted", "paragraph"]
    heading, para, quote, li1, li2, li3, figure, pre, tail = blocks
    assert heading.level == 2 and heading.html == "Markets <em>rally</em>"
    assert '<a href="https://news.example/report" rel="noopener noreferrer">central bank report</a>' in para.html
    assert "<strong>3%</strong>" in para.html and "<q>analysts</q>" in para.html and "<br>" in para.html
    assert "\n" not in para.html  # whitespace folded, sentence not broken at the link
    assert quote.text == "“Rates will stay,” the governor said."
    assert li1.group == li2.group != li3.group and not li1.ordered and li3.ordered
    assert li1.html == "First <b>item</b>"
    assert figure.image.src == "https://news.example/img/chart.png"
    assert (figure.image.alt, figure.image.width, figure.image.height) == ("A chart", 640, 480)
    assert 'href="https://data.example/idx"' in figure.html and figure.text == "The index, source"
    assert pre.html == "x = 1\ny = 2"
    assert tail.text == "loose tail text"
    html = blocks_to_html(blocks)
    assert html.count("<ul>") == 1 and html.count("<ol>") == 1


def test_blocks_drop_empty_and_invisible_paragraphs():
    blocks = blocks_from_html("<p>\u200b</p><p>&nbsp;</p><p> </p><p>Real text.</p><div></div>", "https://a.example/")
    assert [b.text for b in blocks] == ["Real text."]


def test_blocks_from_empty_fragment():
    assert blocks_from_html("", "https://a.example/") == []
    assert blocks_from_html("   ", "https://a.example/") == []


def test_image_with_lazy_source_and_tracking_pixel():
    blocks = blocks_from_html(
        '<p><img src="data:image/gif;base64,R0lGOD" data-src="/photos/a.jpg" alt="A"></p>'
        '<p><img src="https://t.example/p.gif" width="1" height="1"></p>'
        '<p><img src="/assets/site-logo.svg"></p>',
        "https://a.example/story",
    )
    assert [b.image.src for b in blocks] == ["https://a.example/photos/a.jpg"]


def test_data_table_becomes_rows_and_layout_table_is_walked():
    blocks = blocks_from_html(
        "<table><tr><th>Party</th><th>Seats</th></tr><tr><td>A</td><td>12</td></tr></table>"
        "<table><tr><td><p>Layout paragraph one.</p><p>Layout paragraph two.</p></td></tr></table>",
        "https://a.example/",
    )
    assert [b.text for b in blocks] == ["Party | Seats", "A | 12", "Layout paragraph one.", "Layout paragraph two."]


# -- hostile markup ----------------------------------------------------------------------
def test_hostile_markup_comes_out_inert_and_the_article_survives():
    article = extract_article((DATA / "hostile.html").read_bytes(), HOSTILE_URL)
    html = blocks_to_html(article.blocks)
    lowered = html.lower()
    for needle in ("<script", "<iframe", "<object", "<embed", "<svg", "<form", "<input", "<style",
                   "javascript:", "data:", "steal", "evil.example", "alert(", "cookie"):
        assert needle not in lowered, needle
    assert not re.search(r"\son\w+\s*=", lowered), "event handler attribute survived"
    assert not re.search(r"\sstyle\s*=", lowered)
    assert "fake story" not in article.text  # iframe fallback content is not article text
    # every link that remains is absolute http(s) and carries rel=noopener noreferrer
    for tag in re.findall(r"<a\b[^>]*>", html):
        assert re.search(r'href="https?://', tag) and 'rel="noopener noreferrer"' in tag, tag
    # the article itself is intact, links included
    text = article.text
    assert "the river peaked at 5.2 metres" in text
    assert "No homes were flooded" in text and "<strong>No homes were flooded</strong>" in html
    assert "check the evacuation map" in text  # the unsafe link is gone, its words are not
    assert 'href="https://riversidecourier.example/advice/sandbags"' in html
    assert 'href="https://riversidecourier.example/places/school"' in html
    assert "three hundred people" in text
    assert any(b.kind == "figure" and b.image.src.endswith("/img/barrier.jpg") for b in article.blocks)
    # metadata: the javascript: canonical and the data: og:image are ignored
    assert article.canonical_url == "https://riversidecourier.example/news/flood-barrier-holds"
    assert article.image is not None and article.image.src == "https://riversidecourier.example/img/barrier.jpg"
    assert article.publisher == "Riverside Courier"
    assert article.authors == ["Lena Ortiz"]
    assert article.published == datetime(2024, 4, 2, 6, 45, tzinfo=timezone.utc)
    assert article.language == "en"
    assert article.title == "Flood barrier holds as river peaks"
    assert article.source == "page"


# -- metadata ------------------------------------------------------------------------------
def test_json_ld_graph_with_references_and_hindi_body():
    article = extract_article((DATA / "graph.html").read_text(encoding="utf-8"), GRAPH_URL)
    # JSON-LD publisher (through its @id) wins over og:site_name
    assert article.publisher == "नगर समाचार"
    assert article.authors == ["अनीता शर्मा", "Ravi Kumar"]
    assert article.published == datetime(2024, 7, 14, 21, 10, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert article.modified == datetime(2024, 7, 15, 7, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert article.canonical_url == GRAPH_URL  # relative canonical resolved on the page's host
    assert article.image.src == "https://nagarsamachar.example/media/baarish.jpg"
    assert article.language == "hi"
    assert article.section == "शहर" and article.tags == ["बारिश", "यातायात"]
    assert article.summary == "शहर में रात भर हुई बारिश से कई सड़कें पानी में डूब गईं।"
    assert article.title == "बारिश से सड़कें जलमग्न"
    assert [b.kind for b in article.blocks] == ["paragraph", "paragraph", "heading", "paragraph",
                                               "list_item", "list_item", "list_item", "paragraph"]
    assert article.blocks[0].text.startswith("शहर में रविवार")  # the <h1> is the title, not the body
    assert article.blocks[4].ordered
    assert 'href="https://nagarsamachar.example/nagar/jal-nikasi"' in article.blocks[1].html


def test_publisher_order_json_ld_then_og_site_name_then_feed_title():
    og_only = _page("Budget passed", '<meta property="og:site_name" content="District Daily">')
    assert extract_article(og_only, "https://dd.example/a/1", feed_title="DD feed").publisher == "District Daily"
    bare = _page("Budget passed")
    assert extract_article(bare, "https://dd.example/a/1", feed_title="DD <b>feed</b>").publisher == "DD feed"
    assert extract_article(bare, "https://dd.example/a/1").publisher is None  # never invented


def test_title_loses_the_site_suffix():
    page = _page("Budget passed | District Daily", '<meta property="og:site_name" content="District Daily">')
    assert extract_article(page, "https://dd.example/a/1").title == "Budget passed"


@pytest.mark.parametrize(
    "candidate, expected",
    [
        ("https://site.example/a/b", "https://site.example/a/b"),
        ("HTTPS://Site.Example/a/b#frag", "https://site.example/a/b"),
        ("/a/b", "https://site.example/a/b"),
        ("//cdn.site.example/a/b", "https://cdn.site.example/a/b"),
        ("javascript:alert(1)", None),
        ("ftp://site.example/a", None),
        ("http://localhost/a", None),
        ("http://10.0.0.5/a", None),
        ("http://[::1]/a", None),
        ("http://intranet/a", None),
        ("http://printer.local/a", None),
        ("a/b", None),
        ("https://site.example/", None),  # the front page is not this article's canonical
        ("", None),
    ],
)
def test_canonical_candidates(candidate, expected):
    assert canonical_or_none(candidate, "https://site.example/news/story") == expected


def test_canonical_falls_back_to_fetched_url():
    page = _page("Budget passed", '<link rel="canonical" href="http://127.0.0.1/x">')
    article = extract_article(page, "https://dd.example/a/1")
    assert article.canonical_url == "https://dd.example/a/1"
    assert plausible_host("news.example") and not plausible_host("example")


def test_dates_are_timezone_aware():
    assert parse_datetime("2024-05-26T23:40:00Z") == datetime(2024, 5, 26, 23, 40, tzinfo=timezone.utc)
    assert parse_datetime("2024-05-26T23:40:00+0530").utcoffset() == timedelta(hours=5, minutes=30)
    assert parse_datetime("Sun, 26 May 2024 18:10:00 GMT") == datetime(2024, 5, 26, 18, 10, tzinfo=timezone.utc)
    assert parse_datetime("2024-05-26").tzinfo is not None
    assert parse_datetime("yesterday") is None and parse_datetime("1066-10-14") is None


def test_author_and_date_from_byline_when_the_page_states_none():
    body = (
        '<p class="byline">By <span class="author">Priya Nair</span></p>'
        + "".join(f"<p>Sentence {n} about the harvest, which was larger than expected in every district "
                  f"of the state this year, officials said on Friday.</p>" for n in range(6))
    )
    page = _page("Harvest beats forecast", body=body).replace("<article>", '<article><p><time datetime="2023-10-06">6 October 2023</time></p>')
    article = extract_article(page, "https://farm.example/2023/10/06/harvest")
    assert article.authors == ["Priya Nair"]
    assert article.published is not None and article.published.date().isoformat() == "2023-10-06"
    assert article.published.tzinfo is not None


def test_no_body_raises_extraction_error():
    with pytest.raises(ExtractionError, match="no article body"):
        extract_article("<html><head><title>x</title></head><body><nav>Home</nav></body></html>",
                        "https://a.example/x")
    with pytest.raises(ExtractionError, match="empty page"):
        extract_article(b"", "https://a.example/x")


def test_bytes_with_declared_charset():
    page = _page("Café reopens").replace('charset="utf-8"', 'charset="iso-8859-1"')
    article = extract_article(page.encode("iso-8859-1"), "https://a.example/cafe")
    assert article.title == "Café reopens"


def test_article_round_trips_through_a_dict():
    article = extract_article((DATA / "graph.html").read_bytes(), GRAPH_URL)
    assert Article.from_dict(article.to_dict()) == article


# -- feed fallback -----------------------------------------------------------------------------
def test_feed_fallback_uses_content_then_summary():
    entry = FeedEntry(
        title="Bridge &amp; road reopen",
        url="https://feed.example/bridge",
        summary="<p>Short summary.</p>",
        content_html='<p>The bridge reopened on <a href="/dates">Monday</a>.</p><p>Traffic resumed.</p>',
        author="Staff Reporter",
        published=datetime(2024, 1, 2, 3, 4),
        image="https://feed.example/img/bridge.jpg",
        categories=["Roads", "<b>City</b>"],
    )
    article = article_from_feed(entry, "https://feed.example/bridge", feed_title="Feed Example News")
    assert article.source == "feed"
    assert [b.text for b in article.blocks] == ["The bridge reopened on Monday.", "Traffic resumed."]
    assert 'href="https://feed.example/dates"' in article.blocks[0].html
    assert article.title == "Bridge & road reopen"
    assert article.publisher == "Feed Example News"
    assert article.authors == ["Staff Reporter"]
    assert article.published == datetime(2024, 1, 2, 3, 4, tzinfo=timezone.utc)
    assert article.image.src == "https://feed.example/img/bridge.jpg"
    assert article.tags == ["Roads", "City"]
    assert article.summary == "Short summary."
    assert article.canonical_url == "https://feed.example/bridge"

    entry.content_html = "<p> </p>"
    assert [b.text for b in article_from_feed(entry, entry.url).blocks] == ["Short summary."]


def test_feed_fallback_sanitizes_and_fails_cleanly_when_empty():
    entry = FeedEntry(title="t", content_html='<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">there</a></p>')
    article = article_from_feed(entry, "https://feed.example/t")
    assert article.blocks[0].html == "Hi there"
    with pytest.raises(ExtractionError, match="neither content nor summary"):
        article_from_feed(FeedEntry(title="t"), "https://feed.example/t")


def test_bad_input_gives_a_one_line_error_not_a_crash():
    for junk in (b"%PDF-1.7\x00\x01\x02\xff" * 200, "\x00" * 50, "just some words, no markup at all"):
        with pytest.raises(ExtractionError) as caught:
            extract_article(junk, "https://a.example/x")
        assert "\n" not in str(caught.value) and "https://a.example/x" in str(caught.value)


def test_pathological_nesting_keeps_the_words():
    fragment = "<div>" * 400 + "<p>Deep words survive.</p>" + "</div>" * 400
    blocks = blocks_from_html(fragment, "https://a.example/")
    assert "Deep words survive." in " ".join(b.text for b in blocks)
