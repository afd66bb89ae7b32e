"""The agreement PDF: layout facts read back from the PDF, attachments, signature fields,
certification, drafts, reproducibility and the asset fetcher (real WeasyPrint, pyHanko, pypdf
and poppler; no mocks)."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import threading
from io import BytesIO

import pypdf
import pytest
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from weasyprint import HTML, URLFetcher

from contracts.agreement import AgreementSnapshot, AssetSnapshot, ClauseSnapshot, PartySnapshot
from contracts.pdf import (
    ATTACHMENT_NAME,
    AssetFetcher,
    AssetRefused,
    RenderError,
    agreement_json,
    content_hash,
    render_html_pdf,
    render_pdf,
)
from contracts.preview import PRINT_BASE_URL, PRINT_DIR, PRINT_STYLESHEET_URL, render_html
from contracts.signing import (
    CERTIFICATION_FIELD,
    as_asn1,
    create_dev_keypair,
    load_signer,
    party_field_name,
    prepare_and_certify,
)

AUTHOR = "bioPmed Innovation Cluster"
GENERATED = "2025-03-01"
TEXT = ("The Parties shall cooperate in good faith in the performance of the Project and shall "
        "promptly inform each other of any fact that may affect its implementation, including "
        "delays, changes of control and claims of third parties. ")


def party(pid, name, code, country, city, role, signatory, title, eu=True):
    return PartySnapshot(pid, name, code, country, city, role, signatory, title,
                         f"{pid}@example.org", eu)


def sample_snapshot(*, reference="CP-2025-0042", version=3, parties=None, clauses=6,
                    paragraphs=3, assets=24, extra_paragraph="",
                    asset_title="") -> AgreementSnapshot:
    """A plain-data agreement (no database): ~10 pages with the defaults."""
    parties = parties or (
        party(101, "bioPmed Innovation Cluster", "IT", "Italy", "Turin", "lead", "Elena Conti",
              "Director"),
        party(102, "Müller & Söhne Präzisionsoptik GmbH", "DE", "Germany", "Jena", "partner",
              "Jürgen Müller", "Geschäftsführer"),
        party(103, "Shenzhen Qianhai Meditech Co., Ltd.", "CN", "China", "Shenzhen",
              "counterpart", "Li Wei", "Chief Executive Officer", eu=False),
    )
    items = []
    for i in range(1, clauses + 1):
        paras = [f"Paragraph {j} of article {i}. " + TEXT * 3 for j in range(1, paragraphs + 1)]
        if extra_paragraph and i == 2:
            paras.append(extra_paragraph)
        items.append(ClauseSnapshot(
            number=i, key=f"clause_{i}", title=f"Heading of article {i} on results and access",
            option_key="standard", option_label="Standard", library_version=2,
            paragraphs=tuple(paras), negotiated=i == 3, complete=True,
            values={"term_years": i, "language": "English"}))
    register = tuple(
        AssetSnapshot(parties[i % len(parties)].name,
                      asset_title if (asset_title and i == 1) else f"Asset {i}: sensor patent",
                      "patent", f"EP {3900000 + i} B1", "EP, US, CN",
                      "Field of use: diagnostics only.", "Royalty-free",
                      "Fair and reasonable conditions")
        for i in range(1, assets + 1))
    return AgreementSnapshot(
        reference=reference, title="Photonic diagnostics cooperation",
        agreement_type="collaboration", agreement_label="Collaboration agreement",
        version=version, sector="health", start_date="2025-04-01", end_date="2028-03-31",
        parties=parties, clauses=tuple(items), assets=register, parties_without_assets=())


def pdftotext(pdf: bytes, page: int | None = None, *, bbox: bool = False) -> str:
    """Text of the PDF (or of one 1-based page) by poppler's pdftotext."""
    args = ["pdftotext"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    if bbox:
        args.append("-bbox")
    result = subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r'([^<]*)</word>')


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def snapshot():
    return sample_snapshot()


@pytest.fixture(scope="module")
def final(snapshot):
    return render_pdf(snapshot, draft=False, author=AUTHOR, generated=GENERATED)


@pytest.fixture(scope="module")
def draft(snapshot):
    return render_pdf(snapshot, draft=True, author=AUTHOR, generated=GENERATED)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    key_path, cert_path = create_dev_keypair(tmp_path_factory.mktemp("platform"))
    return load_signer(key_path, cert_path), as_asn1(cert_path.read_bytes()), key_path, cert_path


@pytest.fixture(scope="module")
def issued(final, snapshot, platform):
    names = {p.id: party_field_name(p.id) for p in snapshot.parties}
    return prepare_and_certify(final.pdf, final.signature_boxes, names, platform[0],
                               reason="Issued by ClusterPact")


# --- content ----------------------------------------------------------------------------------


def test_page_count_matches_the_pdf_and_the_footer(final, snapshot):
    reader = pypdf.PdfReader(BytesIO(final.pdf))
    assert final.pages == len(reader.pages) >= 1 + 1 + 1 + 1 + len(snapshot.parties)
    last = flat(pdftotext(final.pdf, final.pages))
    assert f"Page {final.pages} of {final.pages}" in last
    assert f"Version {snapshot.version}" in last
    assert final.warnings == ()


def test_every_party_name_and_clause_title_is_in_the_text(final, snapshot):
    text = flat(pdftotext(final.pdf))
    for p in snapshot.parties:
        assert p.name in text
        assert f"Signature of {p.name}" in text
        assert p.signatory_name in text and p.signatory_title in text
    for c in snapshot.clauses:
        assert f"Article {c.number}. {c.title}" in text
    for a in snapshot.assets:
        assert a.title in text
    reader_text = flat(" ".join(page.extract_text() for page in
                                pypdf.PdfReader(BytesIO(final.pdf)).pages))
    assert all(p.name in reader_text for p in snapshot.parties)


def test_cover_header_footer_contents_and_annex(final, snapshot):
    cover = flat(pdftotext(final.pdf, 1))
    for fact in ("Collaboration agreement", snapshot.title, snapshot.reference,
                 "version 3", GENERATED, "Italy", "Germany", "China"):
        assert fact in cover
    contents = flat(pdftotext(final.pdf, 2))
    assert contents.startswith(f"{snapshot.reference} {snapshot.title} Contents")
    # table of contents: every article with the page it starts on
    for c in snapshot.clauses:
        match = re.search(rf"Article {c.number}\. {re.escape(c.title)}[ .]*(\d+)", contents)
        assert match, c.title
        assert f"Article {c.number}. {c.title}" in flat(pdftotext(final.pdf, int(match[1])))
    # Annex 1: printed landscape, over several pages, the header row repeated on each
    reader = pypdf.PdfReader(BytesIO(final.pdf))
    annex_pages = [n for n, page in enumerate(reader.pages, start=1)
                   if page.mediabox.width > page.mediabox.height]
    assert len(annex_pages) >= 2
    assert annex_pages == list(range(annex_pages[0], annex_pages[-1] + 1))
    assert "Annex 1. Background IP" in pdftotext(final.pdf, annex_pages[0])
    for n in annex_pages:
        page = flat(pdftotext(final.pdf, n))
        assert "Party Asset Type Identifiers Jurisdictions Restrictions" in page, n
    for n in range(2, final.pages + 1):  # running header and footer from page 2 on
        page = flat(pdftotext(final.pdf, n))
        assert snapshot.reference in page and f"Page {n} of {final.pages}" in page


def test_one_signature_page_per_party_where_the_box_was_laid_out(final, snapshot):
    pages = {pid: box[0] for pid, box in final.signature_boxes.items()}
    assert set(pages) == {p.id for p in snapshot.parties}
    assert len(set(pages.values())) == len(snapshot.parties)
    for p in snapshot.parties:
        page_text = flat(pdftotext(final.pdf, pages[p.id] + 1))
        assert page_text.count("Signature of") == 1 and f"Signature of {p.name}" in page_text
        assert "Place" in page_text and "Date" in page_text


def test_metadata_title_subject_author_keywords(final, snapshot):
    meta = pypdf.PdfReader(BytesIO(final.pdf)).metadata
    assert meta.title == f"{snapshot.reference} – {snapshot.title}"
    assert meta.subject == snapshot.agreement_label
    assert meta.author == AUTHOR
    assert snapshot.reference in meta["/Keywords"] and "collaboration" in meta["/Keywords"]


def test_final_is_pdf_a3_with_the_agreement_json_attached(final, snapshot):
    reader = pypdf.PdfReader(BytesIO(final.pdf))
    attached = reader.attachments[ATTACHMENT_NAME]
    assert attached == [agreement_json(snapshot)]
    assert json.loads(attached[0]) == json.loads(json.dumps(snapshot.as_data()))
    xmp = reader.xmp_metadata.rdf_root.toxml()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    root = reader.trailer["/Root"]
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert len(root["/AF"]) == 1 and root["/AF"][0].get_object()["/AFRelationship"] == "/Data"


def test_fonts_are_the_bundled_ones_embedded_and_subset(final):
    result = subprocess.run(["pdffonts", "-"], input=final.pdf, capture_output=True, check=True)
    fonts = [line.split() for line in result.stdout.decode().splitlines()[2:]]
    assert fonts and all(re.fullmatch(r"[A-Z]{6}\+ClusterPact-(Serif|Sans)(-\w+)?", f[0])
                         for f in fonts)
    assert all(f[-5] == "yes" and f[-4] == "yes" for f in fonts)  # embedded, subset


# --- signature fields and certification -------------------------------------------------------


def inside_rect(word, rect, page_height) -> bool:
    """Whether a pdftotext -bbox word (top-left origin) lies inside a PDF rectangle."""
    x1, y1, x2, y2 = (float(v) for v in word[:4])
    return (rect[0] <= x1 and x2 <= rect[2]
            and rect[1] <= page_height - y2 and page_height - y1 <= rect[3])


def test_signature_fields_are_named_and_sit_on_the_signature_boxes(issued, final, snapshot):
    assert issued.startswith(final.pdf)
    reader = pypdf.PdfReader(BytesIO(issued))
    fields = reader.get_fields()
    assert set(fields) == {party_field_name(p.id) for p in snapshot.parties} | {
        CERTIFICATION_FIELD}
    for p in snapshot.parties:
        page_index, box = final.signature_boxes[p.id]
        page = reader.pages[page_index]
        widgets = [a.get_object() for a in page.get("/Annots", [])]
        widget = next(w for w in widgets if w.get("/T") == party_field_name(p.id))
        assert widget["/FT"] == "/Sig" and "/V" not in widget
        rect = [float(v) for v in widget["/Rect"]]
        assert rect == pytest.approx(list(box), abs=0.01)
        # independent check: the printed box label and nothing of the other text is inside
        words = WORD.findall(pdftotext(final.pdf, page_index + 1, bbox=True))
        height = float(page.mediabox.height)
        inside = [w[4] for w in words if inside_rect(w, rect, height)]
        assert "".join(inside) == "SIGNATURE"  # the box label, letter-spaced
        signatory = next(w for w in words if w[4] == p.signatory_name.split()[0])
        assert height - float(signatory[1]) > rect[3]  # the signatory is printed above the box


def test_certification_validates_with_docmdp_fill_forms(issued, platform):
    reader = PdfFileReader(BytesIO(issued), strict=True)
    signatures = reader.embedded_signatures
    assert [s.field_name for s in signatures] == [CERTIFICATION_FIELD]
    cert = signatures[0]
    assert cert.docmdp_level == MDPPerm.FILL_FORMS
    status = validate_pdf_signature(cert, ValidationContext(trust_roots=[platform[1]],
                                                            allow_fetching=False))
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok and status.bottom_line


def test_dev_keypair_is_private_and_idempotent(platform):
    _, _, key_path, cert_path = platform
    assert key_path.stat().st_mode & 0o777 == 0o600
    key_bytes, cert_bytes = key_path.read_bytes(), cert_path.read_bytes()
    assert create_dev_keypair(key_path.parent) == (key_path, cert_path)
    assert (key_path.read_bytes(), cert_path.read_bytes()) == (key_bytes, cert_bytes)


# --- drafts and reproducibility ---------------------------------------------------------------


def test_draft_has_a_watermark_on_every_page_and_no_signature_fields(draft, final):
    assert draft.pages == final.pages
    for n in range(1, draft.pages + 1):
        assert "DRAFT – not for signature" in pdftotext(draft.pdf, n), f"page {n}"
        # the big rotated watermark: its glyphs come out one by one, each > 40 pt high
        big = {w[4] for w in WORD.findall(pdftotext(draft.pdf, n, bbox=True))
               if float(w[3]) - float(w[1]) > 40}
        assert big == set("DRAFT"), f"page {n}"
    for n in range(1, final.pages + 1):
        assert "DRAFT" not in pdftotext(final.pdf, n)
    reader = pypdf.PdfReader(BytesIO(draft.pdf))
    assert not reader.get_fields()
    assert "/AcroForm" not in reader.trailer["/Root"]
    assert not reader.attachments
    assert "pdfaid" not in (reader.xmp_metadata.rdf_root.toxml() if reader.xmp_metadata else "")
    assert draft.draft and not final.draft and draft.content_hash != final.content_hash


def test_identical_input_gives_identical_bytes(snapshot, final, draft):
    again = render_pdf(sample_snapshot(), draft=False, author=AUTHOR, generated=GENERATED)
    assert again.pdf == final.pdf
    assert again.content_hash == final.content_hash == content_hash(
        snapshot, draft=False, author=AUTHOR, generated=GENERATED)
    assert again.signature_boxes == final.signature_boxes
    changed = sample_snapshot(version=4)
    assert content_hash(changed, draft=False, author=AUTHOR, generated=GENERATED) \
        != final.content_hash
    assert content_hash(snapshot, draft=True, author=AUTHOR, generated=GENERATED) \
        == draft.content_hash
    assert content_hash(snapshot, draft=False, author=AUTHOR, generated=GENERATED,
                        attachment_json=b"{}") != final.content_hash


# --- the fetcher: only bundled assets, never the network or the file system ------------------


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def hostile_values(port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    return [
        f'<link rel="stylesheet" href="{base}/x.css">',
        f'<img src="{base}/img.png">',
        f'<link rel="attachment" href="{base}/a.bin">',
        '<img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        f'<style>@import url("{base}/i.css"); body {{ background: url({base}/bg.png) }}</style>',
        f'<p style="background-image: url(\'{base}/inline.png\')">x</p>',
        f'url({base}/css-url.png) url("file:///etc/passwd") {{{{ 7*7 }}}}',
    ]


def test_hostile_values_are_printed_verbatim_and_fetch_nothing(listener):
    values = hostile_values(listener.port)
    snap = sample_snapshot(clauses=2, paragraphs=1, assets=2,
                           extra_paragraph=" ".join(values), asset_title=values[1])
    rendered = render_pdf(snap, draft=False, author=values[0], generated=GENERATED)
    assert listener.connections == 0
    raw = pdftotext(rendered.pdf)
    unhyphenated = re.sub(r"[-\u2010]\n", "", raw)
    texts = ("".join(raw.split()), "".join(unhyphenated.split()))
    for value in values:  # printed verbatim (line breaks and hyphenation aside)
        assert any("".join(value.split()) in text for text in texts)
    assert pypdf.PdfReader(BytesIO(rendered.pdf)).metadata.author == values[0]
    assert b"root:x:0:0" not in rendered.pdf
    assert list(pypdf.PdfReader(BytesIO(rendered.pdf)).attachments) == [ATTACHMENT_NAME]


CRAFTED = """<!doctype html><html><head>
<link rel="stylesheet" href="{stylesheet}">
<link rel="stylesheet" href="{base}/remote.css">
<link rel="attachment" href="file:///etc/passwd">
<link rel="attachment" href="{base}/attachment.bin">
<style>
  @import url("{base}/import.css");
  @font-face {{ font-family: Evil; src: url("{base}/font.ttf"), url("file:///etc/passwd"); }}
  body {{ background: url("{base}/background.png"); font-family: Evil; }}
  p {{ list-style-image: url("file:///etc/hostname"); }}
</style></head><body>
<p>crafted</p>
<img src="{base}/image.png"><img src="file:///etc/passwd"><img src="../../../../etc/passwd">
<img src="data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'>\
<image href='{base}/svg.png'/></svg>">
<img src="clusterpact-asset:/print/../../../../etc/passwd">
<img src="clusterpact-asset:/print/fonts/../../../../etc/passwd">
<object data="{base}/object.svg"></object><embed src="{base}/embed.svg">
<iframe src="{base}/frame.html"></iframe>
</body></html>"""


def test_fetcher_refuses_everything_but_the_bundled_assets_in_crafted_html(listener):
    base = f"http://127.0.0.1:{listener.port}"
    html = CRAFTED.format(stylesheet=PRINT_STYLESHEET_URL, base=base)
    fetcher = AssetFetcher()
    pdf = HTML(string=html, base_url=f"{PRINT_BASE_URL}agreement.html",
               url_fetcher=fetcher).write_pdf()
    assert listener.connections == 0
    assert fetcher.refusals >= 13 and fetcher.refusals == len(fetcher.refused)
    assert any(u.startswith("file:") for u in fetcher.refused)
    assert any(u.startswith("data:") for u in fetcher.refused)
    assert any(u.startswith(base) for u in fetcher.refused)
    assert fetcher.served and all(
        u == PRINT_STYLESHEET_URL or u.startswith(f"{PRINT_BASE_URL}fonts/")
        for u in fetcher.served)
    assert b"root:x:0:0" not in pdf
    assert not pypdf.PdfReader(BytesIO(pdf)).attachments

    # positive control: WeasyPrint's default fetcher does reach the listener
    HTML(string=html.replace("file:///etc/", "file:///nonexistent/"), base_url="/nonexistent/",
         url_fetcher=URLFetcher(timeout=2)).write_pdf()
    assert listener.connections > 0


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x.css", "https://example.org/font.ttf", "ftp://example.org/x",
    "file:///etc/passwd", f"file://{PRINT_DIR}/agreement.css",
    "data:text/css,body{}", "javascript:alert(1)", "fonts/DejaVuSans.ttf",
    "clusterpact-asset:/print/agreement.html", "clusterpact-asset:/print/../print/agreement.css",
    "clusterpact-asset:/print/fonts/../../../etc/passwd", "clusterpact-asset:/assets/../pdf.py",
    "clusterpact-asset:/assets/%2e%2e/pdf.py", "clusterpact-asset://host/print/agreement.css",
    "clusterpact-asset:/print/fonts/LICENSE", "clusterpact-asset:/print/fonts/missing.ttf",
    "clusterpact-asset:/print/agreement.css?x=1", "clusterpact-asset:/assets/fonts",
])
def test_fetcher_refuses_urls_outside_the_assets(url):
    fetcher = AssetFetcher()
    with pytest.raises(AssetRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_serves_the_stylesheet_and_bundled_fonts():
    fetcher = AssetFetcher()
    css = fetcher.fetch(PRINT_STYLESHEET_URL)
    assert css.content_type == "text/css" and b"@font-face" in css.read()
    font = fetcher.fetch(f"{PRINT_BASE_URL}fonts/DejaVuSerif.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"
    assert fetcher.fetch("clusterpact-asset:/assets/fonts/LICENSE").read().startswith(b"Format")
    assert fetcher.refusals == 0 and len(fetcher.served) == 3


def test_other_print_documents_get_the_same_fetcher():
    ok = render_html_pdf(f'<link rel="stylesheet" href="{PRINT_STYLESHEET_URL}"><p>Evidence</p>')
    assert "Evidence" in pdftotext(ok)
    with pytest.raises(RenderError):
        render_html_pdf('<img src="file:///etc/passwd"><p>x</p>')


def test_web_preview_html_keeps_its_signature_and_ids(snapshot):
    html = render_html(snapshot, stylesheet="/print/agreement.css", draft=True, generated="x")
    for ident in ("cover", "contents", "annex-1", *(f"sigbox-{p.id}" for p in snapshot.parties),
                  *(f"sign-{p.id}" for p in snapshot.parties)):
        assert f'id="{ident}"' in html
    assert 'class="watermark"' in html and 'href="/print/agreement.css"' in html


# --- a real partnership from the database -----------------------------------------------------


def test_agreement_of_a_real_partnership(database, session, make_partnership):
    from contracts.agreement import build_snapshot
    from workflow.models import Partnership

    p = make_partnership("negotiation")
    with database.sessions() as s:
        snap = build_snapshot(s.get(Partnership, p.id), "Collaboration agreement")
    assert snap.clauses and len(snap.parties) == 2
    rendered = render_pdf(snap, draft=False, author="Cluster", generated="2025-05-02T10:00:00Z")
    text = flat(pdftotext(rendered.pdf))
    for party_snapshot in snap.parties:
        assert party_snapshot.name in text
    for clause in snap.clauses:
        assert f"Article {clause.number}. {clause.title}" in text
    attached = pypdf.PdfReader(BytesIO(rendered.pdf)).attachments[ATTACHMENT_NAME][0]
    data = json.loads(attached)
    assert data == json.loads(json.dumps(snap.as_data()))
    assert [c["option_key"] for c in data["clauses"]] == [c.option_key for c in snap.clauses]
    assert [c["library_version"] for c in data["clauses"]] == [
        c.library_version for c in snap.clauses]
    assert set(rendered.signature_boxes) == {ps.id for ps in snap.parties}
    assert rendered.warnings == ()


# --- Chinese, Japanese and Korean text ---------------------------------------------------


def _glyphs(pdf: bytes, chars: str) -> tuple[set[str], set[str]]:
    """(drawn, missing): the characters of `chars` the PDF draws, and those of them that it
    maps to a glyph its embedded font does not have (an empty box on the page)."""
    drawn, missing = set(), set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            desc = font["/DescendantFonts"][0].get_object()
            tt = TTFont(io.BytesIO(desc["/FontDescriptor"]["/FontFile2"].get_object().get_data()))
            glyphs = tt.getGlyphOrder()
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            for cid, uni in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]{4})>", cmap):
                char = chr(int(uni, 16))
                if char in chars:
                    drawn.add(char)
                    gid = int(cid, 16)  # /CIDToGIDMap /Identity
                    if gid == 0 or gid >= len(glyphs) or (
                            "glyf" in tt and tt["glyf"][glyphs[gid]].numberOfContours == 0):
                        missing.add(char)
    return drawn, missing


def test_chinese_party_name_and_clause_are_drawn_with_real_glyphs():
    """A counterpart's legal name in Chinese, and a clause in its language, print as text,
    not as empty boxes: a CJK font is bundled beside DejaVu."""
    name, clause = "深圳前海医疗科技有限公司", "接收方不得使用披露或规避保密信息"
    parties = (
        party(101, "bioPmed Innovation Cluster", "IT", "Italy", "Turin", "lead", "Elena Conti",
              "Director"),
        party(103, name, "CN", "China", "Shenzhen", "counterpart", "Li Wei", "CEO", eu=False),
    )
    snap = sample_snapshot(parties=parties, clauses=2, paragraphs=1, assets=2,
                           extra_paragraph=clause)
    pdf = render_pdf(snap, draft=False, author="x", generated="2025-03-01").pdf
    assert name in pdftotext(pdf)  # the text layer has it, and the page draws it
    assert _glyphs(pdf, name + clause) == (set(name + clause), set())
