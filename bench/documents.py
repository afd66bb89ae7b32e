"""Agreement PDFs (issue 4): render cost against a bare WeasyPrint render of the same HTML,
the approver's wait, cached draft and issued downloads, and peak memory of one render."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete

from contracts.agreement import build_snapshot
from contracts.issuing import DocumentSettings, bind, draft_pdf
from contracts.pdf import AssetFetcher, _font_config, render_pdf
from contracts.preview import PRINT_BASE_URL, render_print_html
from contracts.signing import create_dev_keypair, load_signer
from tests.helpers import approve_all_clauses, make_compliant
from workflow.agreement_types import label
from workflow.models import Partnership, RenderCache, User
from workflow.services.transitions import advance

from .agreement import _setup, _warm
from .common import database, median_time, row

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3

# Run in a fresh interpreter: peak resident memory of one render of the benchmark document.
_MEMORY = """
import pickle, resource, sys
from contracts.pdf import render_pdf
snapshot = pickle.load(open(sys.argv[1], "rb"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
render_pdf(snapshot, draft=False, author="bench", generated="2026-11-30")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before / 1024, after / 1024)
"""


def _bare(snapshot) -> bytes:
    """WeasyPrint alone on the same HTML: no PDF/A, no attachment, no layout inspection."""
    from weasyprint import HTML

    html = render_print_html(snapshot, draft=False, generated="2026-11-30", author="bench")
    return HTML(string=html, base_url=f"{PRINT_BASE_URL}agreement.html",
                url_fetcher=AssetFetcher()).write_pdf(font_config=_font_config())


def _memory(snapshot) -> tuple[float, float]:
    import pickle

    with tempfile.NamedTemporaryFile(suffix=".pickle") as fh:
        pickle.dump(snapshot, fh)
        fh.flush()
        out = subprocess.run([sys.executable, "-c", _MEMORY, fh.name], cwd=ROOT,  # noqa: S603
                             capture_output=True, text=True, check=True)
    before, after = map(float, out.stdout.split())
    return before, after


def _to_review(session, pid: int) -> Partnership:
    """Take the benchmark partnership to legal review with every clause approved."""
    p = session.get(Partnership, pid)
    owner = p.owner
    legal = session.query(User).filter(User.role == "legal").one()
    make_compliant(session, owner, p)
    p = advance(session, pid, "submit_for_review", owner)
    approve_all_clauses(session, legal, p)
    return p, legal


def run() -> None:
    print("== agreement PDFs (issue 4)")
    print(row("measure", "backend", "value", "ratio"))
    with tempfile.TemporaryDirectory() as keys, database("sqlite") as (_url, engine, sessions):
        signer = load_signer(*create_dev_keypair(Path(keys)))
        bind(DocumentSettings(signer=signer, prepare_in_background=False))
        pid = _setup(sessions)
        session = sessions()
        p = _warm(session, pid)
        snapshot = build_snapshot(p, label(p.agreement_type), version=1)
        first = render_pdf(snapshot, draft=False, author="bench", generated="2026-11-30")
        ours = median_time(lambda: render_pdf(snapshot, draft=False, author="bench",
                                              generated="2026-11-30"), RUNS)
        bare = median_time(lambda: _bare(snapshot), RUNS)
        pages = first.pages
        print(row(f"render final PDF/A ({pages} pages), median {RUNS}", "-", f"{ours:.2f} s",
                  f"{ours / pages * 1000:.0f} ms/page"))
        print(row("bare WeasyPrint, same HTML", "-", f"{bare:.2f} s",
                  f"overhead {ours / bare - 1:+.0%} (target <= +25%)"))
        before, after = _memory(snapshot)
        print(row("peak RSS of one render (fresh process)", "-", f"{after:.0f} MB",
                  f"imports alone {before:.0f} MB (target < 300 MB)"))

        draft_pdf(session, p)  # first draft download renders and caches
        session.commit()

        def download_draft():  # one request = one session, as in the web app
            with sessions() as fresh:
                draft_pdf(fresh, fresh.get(Partnership, pid))

        again = median_time(download_draft, 20)
        print(row("second draft download (cache hit)", "sqlite", f"{again * 1000:.1f} ms",
                  "target < 20 ms"))

        p, legal = _to_review(session, pid)  # submit lays out the candidate PDF
        start = time.perf_counter()
        advance(session, pid, "approve", legal)
        approve = time.perf_counter() - start
        print(row("approve: wait (candidate prepared at submit)", "sqlite", f"{approve:.2f} s",
                  "target < 0.5 s"))
        advance(session, pid, "reopen", legal, comment="bench: measure the cold path")
        p = advance(session, pid, "submit_for_review", p.owner)
        approve_all_clauses(session, legal, p)
        session.execute(delete(RenderCache))
        session.commit()
        start = time.perf_counter()
        advance(session, pid, "approve", legal)
        cold = time.perf_counter() - start
        print(row("approve: wait without the prepared candidate", "sqlite", f"{cold:.2f} s",
                  f"prepared is {cold / approve:.1f}x faster"))
        print(row("issued download", "sqlite", f"{_download(engine, pid) * 1000:.1f} ms",
                  "target < 20 ms"))
        session.close()
        _libreoffice(snapshot, approve)


def _libreoffice(snapshot, approve: float) -> None:
    """The route many contract systems take: a warm LibreOffice converting the same content.
    Optional: LibreOffice is never a product dependency (apt-get install
    libreoffice-writer-nogui to compare)."""
    soffice = shutil.which("soffice")
    if not soffice:
        print(row("LibreOffice route (warm process)", "-", "not installed",
                  "apt-get install libreoffice-writer-nogui to compare"))
        return
    from contracts.preview import PRINT_DIR, render_html

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "agreement.html").write_text(
            render_html(snapshot, stylesheet="agreement.css", draft=False))
        shutil.copy(PRINT_DIR / "agreement.css", folder / "agreement.css")
        profile = f"-env:UserInstallation=file://{folder}/profile"
        server = subprocess.Popen([soffice, profile, "--headless", "--invisible",  # noqa: S603
                                   "--norestore"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            time.sleep(6)  # let the instance start: the conversions below reuse it
            convert = [soffice, profile, "--headless", "--convert-to", "pdf", "--outdir",
                       str(folder / "out"), str(folder / "agreement.html")]
            subprocess.run(convert, check=True, capture_output=True)  # noqa: S603
            cost = median_time(lambda: subprocess.run(convert, check=True,  # noqa: S603
                                                      capture_output=True), RUNS)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(row("LibreOffice route (warm process), same HTML", "-", f"{cost:.2f} s",
              f"approve wait is {approve / cost:.2f}x of it"))


def _download(engine, pid: int) -> float:
    """Server time of GET agreement.pdf for an issued document (Flask test client)."""
    from config import TestingConfig
    from tests.conftest import PASSWORD
    from web import create_app
    from workflow.services.users import create_user

    config = TestingConfig()
    config.DATABASE_URL = str(engine.url)
    with tempfile.TemporaryDirectory() as tmp:
        config.INSTANCE_PATH = Path(tmp)
        app = create_app(config)
        with app.extensions["clusterpact.sessions"]() as s:
            from workflow.roles import SYSTEM_ACTOR

            create_user(s, SYSTEM_ACTOR, "reader@example.org", "Reader", "legal", PASSWORD)
        client = app.test_client()
        from tests.web.conftest import Auth

        Auth(client).login("reader@example.org")
        url = f"/partnerships/{pid}/agreement.pdf"
        assert client.get(url).status_code == 200
        cost = median_time(lambda: client.get(url), 20)
        app.extensions["clusterpact.engine"].dispose()
    return cost
