"""Images as extraction sees them: the lead image keeps its alt, caption and credit; body images keep theirs.

Captions and credits come from the page's ``<figure>`` around the image, from
``og:image:alt`` and from the JSON-LD ``ImageObject``; an alt the page does not
give stays empty (never the headline). Images trafilatura drops because their
URL has no image extension (SVG, CDN paths) come back where the page had them.
"""

from __future__ import annotations

from samachar.demo import article_entries, samples_dir
from samachar.extract import extract_article
from samachar.model import Article, Image

URL = "https://dd.example/city/2026/lakes"
PARAGRAPHS = [
    "The municipal council approved a plan on Monday to restore 46 lakes across the city before the monsoon.",
    "The work will begin in October, once the rains ease, and the first twelve lakes will be finished next year.",
    "Residents who live near the lakes said they had waited for the plan for more than a decade and welcomed it.",
    "Officials said the money would come from the state and from a loan, and that contracts would be open.",
]


def _page(head: str = "", lead: str = "", middle: str = "", title: str = "Council clears lakes plan") -> str:
    first, second, *rest = PARAGRAPHS
    body = f"<p>{first}</p><p>{second}</p>{middle}" + "".join(f"<p>{p}</p>" for p in rest)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
            f'<p class="standfirst">The plan costs 1,240 crore rupees and covers lakes in every zone of the city.</p>'
            f"{lead}<div class='story-body'>{body}</div></article><footer>Contact us</footer></body></html>")


def test_lead_figure_gives_alt_caption_credit_and_size():
    lead = ('<figure class="lead-image"><img src="/img/lake.jpg" alt="A lake at dusk" width="1200" height="630">'
            "<figcaption>A lake ringed by apartment blocks at dusk. Photo: Deccan Courier</figcaption></figure>")
    page = _page('<meta property="og:image" content="https://dd.example/img/lake.jpg">', lead)
    image = extract_article(page, URL).image
    assert image is not None and image.src == "https://dd.example/img/lake.jpg"
    assert image.alt == "A lake at dusk"
    assert image.caption == "A lake ringed by apartment blocks at dusk."
    assert image.credit == "Photo: Deccan Courier"
    assert (image.width, image.height) == (1200, 630)


def test_credit_in_its_own_element_and_og_alt():
    lead = ('<figure><img src="/img/road.png?w=800">'
            '<figcaption>The new road at Worli. <span class="photo-credit">Konkan Tide/Drone Desk</span>'
            "</figcaption></figure>")
    head = ('<meta property="og:image" content="/img/road.png?w=1200">'
            '<meta property="og:image:alt" content="A curving road along the sea">')
    image = extract_article(_page(head, lead), URL).image
    assert image.src == "https://dd.example/img/road.png?w=1200"
    assert image.alt == "A curving road along the sea"
    assert (image.caption, image.credit) == ("The new road at Worli.", "Konkan Tide/Drone Desk")


def test_json_ld_image_object_caption_and_credit():
    ld = ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
          '"headline":"Council clears lakes plan","image":{"@type":"ImageObject","url":"https://cdn.dd.example/lake",'
          '"caption":"Hussain Sagar lake seen from the Necklace Road.","width":1600,"height":900,'
          '"copyrightHolder":{"@type":"Organization","name":"Meridian Wire"}}}</script>')
    image = extract_article(_page(ld), URL).image
    assert image.src == "https://cdn.dd.example/lake"
    assert image.caption == "Hussain Sagar lake seen from the Necklace Road."
    assert image.credit == "Meridian Wire"
    assert (image.width, image.height) == (1600, 900)
    assert image.alt == ""


def test_alt_is_never_the_headline():
    page = _page('<meta property="og:image" content="https://dd.example/img/lake.jpg">')
    image = extract_article(page, URL).image
    assert image.alt == "" and image.caption == "" and image.credit == ""


def test_body_svg_figure_comes_back_with_its_caption_alt_and_size():
    middle = ('<figure><img src="/img/underpass.svg" alt="Commuters push scooters" width="960" height="540">'
              "<figcaption>Commuters in Warangal on Monday. (Illustration: Deccan Courier)</figcaption></figure>")
    article = extract_article(_page(middle=middle), URL)
    kinds = [b.kind for b in article.blocks]
    figure = next(b for b in article.blocks if b.kind == "figure")
    assert figure.image.src == "https://dd.example/img/underpass.svg"
    assert figure.image.alt == "Commuters push scooters"
    assert (figure.image.width, figure.image.height) == (960, 540)
    assert figure.text == "Commuters in Warangal on Monday. (Illustration: Deccan Courier)"
    # where the page had it: after the second paragraph
    position = kinds.index("figure")
    assert article.blocks[position - 1].text == PARAGRAPHS[1] and article.blocks[position + 1].text == PARAGRAPHS[2]


def test_a_figure_outside_the_story_does_not_come_back():
    furniture = ('<aside><figure><img src="/img/ad.svg" alt="Buy now" width="300" height="250">'
                 "<figcaption>Sponsored</figcaption></figure></aside>")
    page = _page().replace("<footer>", furniture + "<footer>")
    assert not any(b.kind == "figure" for b in extract_article(page, URL).blocks)


def test_caption_and_credit_survive_storage():
    image = Image("https://dd.example/img/lake.jpg", alt="A lake", caption="At dusk.", credit="Photo: DC")
    article = Article(url=URL, title="t", blocks=[], image=image)
    assert Article.from_dict(article.to_dict()).image == image
    older = article.to_dict()
    del older["image"]["caption"], older["image"]["credit"]  # a row stored before captions were kept
    assert Article.from_dict(older).image == Image("https://dd.example/img/lake.jpg", alt="A lake")


def test_every_demo_sample_has_a_lead_image_with_caption_and_credit():
    base = "http://127.0.0.1:8741"
    for sample in article_entries():
        html = (samples_dir() / sample["path"].lstrip("/")).read_text(encoding="utf-8").replace("{{BASE}}", base)
        image = extract_article(html, base + sample["path"]).image
        assert image is not None and image.src == base + sample["image"], sample["path"]
        assert image.caption and image.credit and image.alt, (sample["path"], image)
        assert image.credit not in image.caption, sample["path"]
