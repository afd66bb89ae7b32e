"""HTML of the assembled agreement, from a snapshot, with autoescaping on."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PRINT_DIR = Path(__file__).resolve().parent.parent / "templates" / "print"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

# The private URL space the PDF renderer's fetcher serves (contracts/pdf.py AssetFetcher):
# the print stylesheet and, relative to it, the bundled fonts (fonts/<file>). Nothing else.
PRINT_SCHEME = "clusterpact-asset"
PRINT_BASE_URL = f"{PRINT_SCHEME}:/print/"
PRINT_STYLESHEET_URL = f"{PRINT_BASE_URL}agreement.css"

_env = Environment(
    loader=FileSystemLoader(str(PRINT_DIR)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(snapshot, *, stylesheet: str, draft: bool = False, generated: str = "",
                author: str = "", created: str = "") -> str:
    """The agreement as one HTML document; `stylesheet` is the URL of agreement.css.

    `author` and `created` (W3C date-time) only feed the document metadata of the PDF.
    """
    return _env.get_template("agreement.html").render(
        a=snapshot, stylesheet=stylesheet, draft=draft, generated=generated, author=author,
        created=created)


def render_print_html(snapshot, *, draft: bool, generated: str = "", author: str = "",
                      created: str = "") -> str:
    """The HTML the PDF renderer lays out: the stylesheet is the one its fetcher serves."""
    return render_html(snapshot, stylesheet=PRINT_STYLESHEET_URL, draft=draft,
                       generated=generated, author=author, created=created)
