"""Agreement PDFs rendered by WeasyPrint from an AgreementSnapshot.

- Only the bundled assets are ever fetched: `AssetFetcher` serves the print stylesheet and the
  files under contracts/assets/ from a private URL scheme and refuses everything else
  (http(s), file:, data:, ...) without touching the network or the file system.
- Output is byte-identical for identical input: SOURCE_DATE_EPOCH is fixed (embedded fonts carry
  a timestamp otherwise), the PDF /ID and every date come from the inputs.
- Drafts carry a DRAFT watermark on every page; the final document is PDF/A-3b with the
  machine-readable agreement attached as agreement.json.
- The position of each party's signature box is read from the laid-out pages (the anchor of
  `#sigbox-<party id>`), so signature fields can be placed exactly over it (contracts/signing.py).

Framework-free: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from io import BytesIO
from pathlib import Path

import weasyprint
from weasyprint import HTML, Attachment
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .preview import ASSETS_DIR, PRINT_BASE_URL, PRINT_DIR, PRINT_SCHEME, render_print_html

# Relative references (the fonts in agreement.css) resolve inside the private scheme.
if PRINT_SCHEME not in urllib.parse.uses_relative:
    urllib.parse.uses_relative.append(PRINT_SCHEME)

FONTS_DIR = ASSETS_DIR / "fonts"
ATTACHMENT_NAME = "agreement.json"
PDF_VARIANT = "pdf/a-3b"
# Bump when a code change alters the bytes rendered for the same inputs (cache keys).
LAYOUT_VERSION = "1"
# 2000-01-01T00:00:00Z: used when the environment does not fix SOURCE_DATE_EPOCH already.
DEFAULT_SOURCE_DATE_EPOCH = "946684800"

_PX_TO_PT = 0.75  # 72 PDF points per inch / 96 CSS pixels per inch
_FONT_SUFFIXES = {".ttf", ".otf", ".woff", ".woff2"}
_CONTENT_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf",
                  ".woff": "font/woff", ".woff2": "font/woff2", ".png": "image/png",
                  ".svg": "image/svg+xml", ".json": "application/json"}

Box = tuple[float, float, float, float]


class RenderError(RuntimeError):
    """The agreement could not be rendered as expected."""


class AssetRefused(ValueError):
    """A URL outside the bundled assets was requested."""


class AssetFetcher(URLFetcher):
    """URL fetcher that serves only the bundled assets, from the private scheme.

    Served: `clusterpact-asset:/print/agreement.css` (templates/print/agreement.css),
    `clusterpact-asset:/print/fonts/<file>` (contracts/assets/fonts/<file>) and
    `clusterpact-asset:/assets/<path>` (any file inside contracts/assets/).
    Everything else raises `AssetRefused` and is recorded in `refused` (the `refusals` count):
    http(s), ftp, file: (anywhere), data:, relative or malformed URLs, path traversal.
    No request is ever opened: `fetch` never reaches urllib's handlers.
    """

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols=(PRINT_SCHEME,), allow_redirects=False)
        self.refused: list[str] = []
        self.served: list[str] = []

    @property
    def refusals(self) -> int:
        return len(self.refused)

    def fetch(self, url, headers=None):
        try:
            path = self.resolve(url)
        except AssetRefused:
            self.refused.append(str(url)[:500])
            raise
        self.served.append(url)
        content_type = _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def open(self, url, data=None, timeout=None):  # never let urllib open anything
        return self.fetch(getattr(url, "full_url", url))

    @staticmethod
    def resolve(url) -> Path:
        """The bundled file a URL names, or AssetRefused."""
        if not isinstance(url, str) or len(url) > 1000 or "\\" in url or "\x00" in url:
            raise AssetRefused("not a bundled asset URL")
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError as exc:
            raise AssetRefused(f"malformed URL: {url[:100]}") from exc
        if parts.scheme.lower() != PRINT_SCHEME or parts.netloc or parts.query:
            raise AssetRefused(f"refused (only bundled assets are served): {url[:100]}")
        segments = urllib.parse.unquote(parts.path).split("/")
        if (len(segments) < 3 or segments[0] != ""
                or any(s in ("", ".", "..") or "\\" in s or "\x00" in s for s in segments[1:])):
            raise AssetRefused(f"refused path: {url[:100]}")
        top, rest = segments[1], segments[2:]
        if top == "print" and rest == ["agreement.css"]:
            root, candidate = PRINT_DIR, PRINT_DIR / "agreement.css"
        elif top == "print" and len(rest) == 2 and rest[0] == "fonts" \
                and Path(rest[1]).suffix.lower() in _FONT_SUFFIXES:
            root, candidate = FONTS_DIR, FONTS_DIR / rest[1]
        elif top == "assets":
            root, candidate = ASSETS_DIR, ASSETS_DIR.joinpath(*rest)
        else:
            raise AssetRefused(f"refused path: {url[:100]}")
        try:
            real = candidate.resolve(strict=True)
        except OSError as exc:
            raise AssetRefused(f"no such bundled asset: {url[:100]}") from exc
        if not real.is_relative_to(root.resolve()) or not real.is_file():
            raise AssetRefused(f"refused path: {url[:100]}")
        return real


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int
    # party id -> (page index 0-based, (x1, y1, x2, y2) in PDF points, origin bottom-left)
    signature_boxes: dict[int, tuple[int, Box]]
    content_hash: str
    draft: bool
    warnings: tuple[str, ...] = field(default=())


def agreement_json(snapshot) -> bytes:
    """The machine-readable agreement (canonical JSON of the snapshot) embedded in the PDF."""
    return json.dumps(snapshot.as_data(), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str).encode("utf-8")


def content_hash(snapshot, *, draft: bool, attachment_json: bytes | None = None, author: str,
                 generated: str) -> str:
    """sha256 of everything that determines the rendered bytes (a cache key: compute it
    before rendering, look the PDF up, render only on a miss).

    The snapshot enters by the digest of its canonical JSON, serialised once: for a final
    document that JSON is also the default attachment."""
    canonical = agreement_json(snapshot)
    snapshot_digest = hashlib.sha256(canonical).hexdigest()
    if not draft and attachment_json is None:
        attachment_json = canonical
    material = {
        "renderer": [weasyprint.__version__, LAYOUT_VERSION, PDF_VARIANT],
        "assets": _assets_digest(),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH),
        "snapshot": snapshot_digest,
        "draft": bool(draft),
        "author": author,
        "generated": generated,
        "attachment": (hashlib.sha256(attachment_json).hexdigest()
                       if attachment_json is not None else None),
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def render_pdf(snapshot, *, draft: bool, attachment_json: bytes | None = None, author: str,
               generated: str) -> RenderedPdf:
    """Render the agreement. Final documents (draft=False) are PDF/A-3b with `attachment_json`
    (default: `agreement_json(snapshot)`) attached as agreement.json; drafts carry a DRAFT
    watermark on every page. Raises RenderError if the layout asked for anything but the
    bundled assets or a party's signature box is missing."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    if not draft and attachment_json is None:
        attachment_json = agreement_json(snapshot)
    key = content_hash(snapshot, draft=draft, attachment_json=attachment_json, author=author,
                       generated=generated)
    stamp, dated = _timestamp(generated)
    html = render_print_html(snapshot, draft=draft, generated=generated, author=author,
                             created=stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if dated else "")
    fetcher = AssetFetcher()
    options = {"pdf_identifier": key[:32].encode("ascii")}
    profiles = {}
    if not draft:
        options["pdf_variant"] = PDF_VARIANT
        # Our own handle on WeasyPrint's sRGB profile as the PDF/A output intent: with the
        # built-in "srgb" intent, WeasyPrint leaves the .icc file open (a ResourceWarning).
        options["output_intent"] = _SRGB
        profiles[_SRGB] = _srgb_profile()
    if attachment_json is not None:
        options["attachments"] = [Attachment(
            string=attachment_json, url_fetcher=fetcher, name=ATTACHMENT_NAME,
            description="Machine-readable agreement data", created=stamp, modified=stamp,
            relationship="Data")]
    with _RENDER_LOCK, _CollectWarnings() as logged:
        document = HTML(string=html, base_url=f"{PRINT_BASE_URL}agreement.html",
                        url_fetcher=fetcher).render(font_config=_font_config(),
                                                    color_profiles=profiles, **options)
        boxes = signature_boxes(document, [p.id for p in snapshot.parties])
        pdf = document.write_pdf(finisher=_finish, **options)
    if fetcher.refused:
        raise RenderError(f"the agreement layout requested {fetcher.refusals} resource(s) "
                          f"outside the bundled assets: {fetcher.refused[:3]}")
    return RenderedPdf(pdf=pdf, pages=len(document.pages), signature_boxes=boxes,
                       content_hash=key, draft=draft, warnings=tuple(logged))


def render_html_pdf(html: str, *, name: str = "document.html") -> bytes:
    """Any other print document (e.g. the evidence report) laid out with the same guarantees:
    only the bundled assets are fetched (stylesheet: preview.PRINT_STYLESHEET_URL), one render
    at a time, shared fonts. Raises RenderError if anything else was requested."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    fetcher = AssetFetcher()
    with _RENDER_LOCK:
        pdf = HTML(string=html, base_url=f"{PRINT_BASE_URL}{name}",
                   url_fetcher=fetcher).write_pdf(font_config=_font_config())
    if fetcher.refused:
        raise RenderError(f"the document requested {fetcher.refusals} resource(s) outside "
                          f"the bundled assets: {fetcher.refused[:3]}")
    return pdf


def signature_boxes(document, party_ids) -> dict[int, tuple[int, Box]]:
    """Where each `#sigbox-<party id>` was laid out: page index and PDF-point rectangle."""
    boxes: dict[int, tuple[int, Box]] = {}
    for party_id in party_ids:
        anchor = f"sigbox-{party_id}"
        for index, page in enumerate(document.pages):
            if anchor in page.anchors:
                x1, y1, x2, y2 = page.anchors[anchor]
                boxes[party_id] = (index, (
                    round(x1 * _PX_TO_PT, 3), round((page.height - y2) * _PX_TO_PT, 3),
                    round(x2 * _PX_TO_PT, 3), round((page.height - y1) * _PX_TO_PT, 3)))
                break
        else:
            raise RenderError(f"no signature box was laid out for party {party_id}")
    return boxes


# -- internals ---------------------------------------------------------------------------------

# WeasyPrint shares Pango/fontconfig state; one render at a time per process, and the
# @font-face fonts are registered once and reused by every render.
_RENDER_LOCK = threading.Lock()
_FONTS: FontConfiguration | None = None
_ASSETS_DIGEST: tuple[tuple, str] | None = None


def _finish(document, pdf) -> None:
    """Post-process the pydyf document before it is written: WeasyPrint 70 lists each PDF/A-3
    attachment twice in the catalog's /AF array; keep one entry each."""
    associated = pdf.catalog.get("AF")
    if associated is not None:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)


_SRGB = "clusterpact-srgb"
_SRGB_BYTES: bytes | None = None


def _srgb_profile() -> ColorProfile:
    """A fresh profile per render: LittleCMS re-serialises a profile differently once its tags
    have been read, so a shared one would change the bytes of the next render."""
    global _SRGB_BYTES
    if _SRGB_BYTES is None:
        _SRGB_BYTES = (resources.files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
    return ColorProfile(BytesIO(_SRGB_BYTES), "sRGB2014.icc", "relative-colorimetric",
                        (["r"], ["g"], ["b"]))


def _font_config() -> FontConfiguration:
    global _FONTS
    if _FONTS is None:
        _FONTS = FontConfiguration()
    return _FONTS


@cache
def _asset_files() -> tuple[Path, ...]:
    """The files a layout reads besides the snapshot: listed once per process (bundled with
    the code); their contents are still checked on every call (see _assets_digest)."""
    files = [PRINT_DIR / "agreement.html", PRINT_DIR / "agreement.css"]
    files += sorted(p for p in ASSETS_DIR.rglob("*") if p.is_file())
    return tuple(files)


def _assets_digest() -> str:
    """sha256 over the template, stylesheet and bundled assets (recomputed when one changes)."""
    global _ASSETS_DIGEST
    files = _asset_files()
    stamp = tuple((st.st_mtime_ns, st.st_size) for st in map(os.stat, files))
    if _ASSETS_DIGEST is None or _ASSETS_DIGEST[0] != stamp:
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.relative_to(PRINT_DIR.parent.parent)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        _ASSETS_DIGEST = (stamp, digest.hexdigest())
    return _ASSETS_DIGEST[1]


def _timestamp(generated: str) -> tuple[datetime, bool]:
    """The document date (UTC, naive) and whether it came from `generated` (an ISO date or
    date-time); otherwise SOURCE_DATE_EPOCH, so that nothing depends on the clock."""
    try:
        stamp = datetime.fromisoformat(generated.strip())
    except (ValueError, AttributeError):
        epoch = os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
        return datetime.fromtimestamp(int(epoch), UTC).replace(tzinfo=None), False
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC)
    return stamp.replace(tzinfo=None, microsecond=0), True


class _CollectWarnings(logging.Handler):
    """Collect WeasyPrint's warnings (CSS it ignored, resources it could not load)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> list[str]:
        logging.getLogger("weasyprint").addHandler(self)
        return self.messages

    def __exit__(self, *exc) -> None:
        logging.getLogger("weasyprint").removeHandler(self)
