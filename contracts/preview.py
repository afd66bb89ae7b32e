"""HTML of the assembled agreement, from a snapshot, with autoescaping on."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PRINT_DIR = Path(__file__).resolve().parent.parent / "templates" / "print"

_env = Environment(
    loader=FileSystemLoader(str(PRINT_DIR)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(snapshot, *, stylesheet: str, draft: bool = False, generated: str = "") -> str:
    """The agreement as one HTML document; `stylesheet` is the URL of agreement.css."""
    return _env.get_template("agreement.html").render(
        a=snapshot, stylesheet=stylesheet, draft=draft, generated=generated)
