"""Agreement assembly: loading the clause library, and building the HTML preview of a full
collaboration agreement (every default clause plus a 50-asset Annex 1)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from contracts import preview, publish
from contracts.agreement import build_snapshot
from contracts.library import load_library
from contracts.preview import render_html
from contracts.publish import library_payload
from tests.helpers import build_partnership
from workflow import clauses as clause_specs
from workflow.agreement_types import label
from workflow.models import Partnership
from workflow.roles import SYSTEM_ACTOR
from workflow.services import organisations, users
from workflow.services.background import AssetInput, add_asset
from workflow.services.library import sync_library

from .common import backends, database, median_time, row

ROOT = Path(__file__).resolve().parent.parent
LOAD_RUNS = 20
FRESH_RUNS = 3
PREVIEW_RUNS = 50
ASSETS = 50
STYLESHEET = "/print/agreement.css"

# Timed in a fresh interpreter: the import of contracts.library (yaml, jinja2, pycountry)
# and the first load_library(); prints "import_seconds total_seconds".
_FRESH = (
    "import time; t0 = time.perf_counter(); "
    "from contracts.library import load_library; t1 = time.perf_counter(); "
    "load_library(); t2 = time.perf_counter(); "
    "print(t1 - t0, t2 - t0)"
)

# (title, asset type, identifier pattern, jurisdictions): {n} numbers each instance.
_ASSET_KINDS = [
    ("Microfluidic sample-preparation cartridge, generation {n}", "patent",
     "EP 3 9{n:02d} 345 B1; US 11,{n:03d},872 B2", "EP, US, CN"),
    ("Lateral-flow signal amplification method {n}", "application",
     "PCT/EP2023/0{n:05d}; CN 1161{n:05d} A", "PCT, CN"),
    ("Assay calibration and lot-release know-how, series {n}", "know_how", "", "worldwide"),
    ("Point-of-care reader firmware module {n}", "software",
     "git repository reader-fw, tag v2.{n}.0", "worldwide"),
    ("Anonymised clinical validation dataset, cohort {n}", "data",
     "DOI 10.5281/zenodo.78{n:05d}", "EU/EEA only"),
    ("Cartridge housing industrial design {n}", "design",
     "RCD 0089{n:05d}-0001", "EU"),
    ("Device word mark MEDISENSE-{n}", "trademark", "EUTM 018{n:06d}", "EU, CN"),
]
_RESTRICTIONS = [
    None,
    "Licensed in from a university; sub-licensing requires the licensor's written consent.",
    "Export-controlled (dual use, EU Regulation 2021/821 Annex I); no transfer outside the "
    "EU/EEA without an export licence.",
    None,
    "Encumbered by an exclusive field-of-use licence in veterinary diagnostics.",
]
_ACCESS_IMPLEMENTATION = ["Royalty-free", "Royalty-free, limited to the project duration",
                          "Royalty-free, on request in writing"]
_ACCESS_EXPLOITATION = ["Fair and reasonable conditions", "Not available",
                        "Fair and reasonable conditions, non-exclusive, excluding China"]


def _asset(i: int) -> AssetInput:
    title, kind, ids, jurisdictions = _ASSET_KINDS[i % len(_ASSET_KINDS)]
    n = i + 1
    return AssetInput(
        title=title.format(n=n), asset_type=kind, identifiers=ids.format(n=n) or None,
        jurisdictions=jurisdictions, restrictions=_RESTRICTIONS[i % len(_RESTRICTIONS)],
        access_implementation=_ACCESS_IMPLEMENTATION[i % len(_ACCESS_IMPLEMENTATION)],
        access_exploitation=_ACCESS_EXPLOITATION[i % len(_ACCESS_EXPLOITATION)])


def _setup(sessions) -> int:
    """Publish the library, then a collaboration in negotiation with a 50-asset Annex 1."""
    s = sessions()
    sync_library(s, SYSTEM_ACTOR, library_payload())
    eu = organisations.create_organisation(s, SYSTEM_ACTOR, "bioPmed", "IT", "cluster", "Turin")
    cn = organisations.create_organisation(s, SYSTEM_ACTOR, "Shenzhen Qianhai Meditech Co., Ltd.",
                                           "CN", "sme", "Shenzhen")
    pw = "benchmark password"
    coord = users.create_user(s, SYSTEM_ACTOR, "c@example.org", "C", "coordinator", pw)
    legal = users.create_user(s, SYSTEM_ACTOR, "l@example.org", "L", "legal", pw)
    p = build_partnership(s, coord, legal, eu, cn, "negotiation")
    assert p.clauses, "no clauses: the library was not published"
    pid, parties = p.id, [party.id for party in p.parties]
    # spread over the two parties: 30 for the lead, 20 for the counterpart
    for i in range(ASSETS):
        add_asset(s, coord, pid, parties[0] if i % 5 < 3 else parties[1], _asset(i))
    s.close()
    return pid


def _warm(session, pid: int) -> Partnership:
    """Load the partnership and everything build_snapshot reads, so timing is CPU only."""
    p = session.get(Partnership, pid)
    for party in p.parties:
        _ = party.organisation.name, list(party.assets)
    for clause in p.clauses:
        _ = clause.library_version.data
    return p


def bench_preview(sessions, pid: int) -> dict:
    session = sessions()
    p = _warm(session, pid)
    agreement_label = label(p.agreement_type)
    # Cold: empty the process-wide caches (clause specs, compiled options, the print
    # template) so each backend's first preview pays its compilation like a fresh worker.
    clause_specs._SPECS.clear()
    publish._COMPILED.clear()
    preview._env.cache.clear()
    start = time.perf_counter()
    first = render_html(build_snapshot(p, agreement_label), stylesheet=STYLESHEET)
    cold = time.perf_counter() - start
    snapshot = build_snapshot(p, agreement_label)
    out = {
        "cold": cold,
        "total": median_time(lambda: render_html(build_snapshot(p, agreement_label),
                                                 stylesheet=STYLESHEET), PREVIEW_RUNS),
        "snapshot": median_time(lambda: build_snapshot(p, agreement_label), PREVIEW_RUNS),
        "render": median_time(lambda: render_html(snapshot, stylesheet=STYLESHEET),
                              PREVIEW_RUNS),
        "bytes": len(first.encode("utf-8")),
        "clauses": len(snapshot.clauses),
        "complete": sum(c.complete for c in snapshot.clauses),
        "assets": len(snapshot.assets),
    }
    session.close()
    return out


def bench_fresh_load() -> tuple[float, float]:
    """Median (import, import + first load) seconds in a fresh interpreter."""
    imports, totals = [], []
    for _ in range(FRESH_RUNS):
        out = subprocess.run(  # noqa: S603 - fixed argv: this interpreter, our own code
            [sys.executable, "-c", _FRESH], cwd=ROOT, check=True, capture_output=True,
            text=True).stdout.split()
        imports.append(float(out[0]))
        totals.append(float(out[1]))
    return statistics.median(imports), statistics.median(totals)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def run() -> None:
    print("== agreement assembly (library load, HTML preview)")
    print(row("measure", "backend", "value", "ratio"))
    load_library()  # warm the file cache
    warm = median_time(load_library, LOAD_RUNS)
    fresh_import, fresh_total = bench_fresh_load()
    print(row(f"load_library() median of {LOAD_RUNS}", "-", _ms(warm), "target < 200 ms"))
    print(row("import + first load_library(), fresh python", "-", _ms(fresh_total),
              f"import {_ms(fresh_import)}"))
    for kind in backends():
        with database(kind) as (_url, _engine, sessions):
            pid = _setup(sessions)
            r = bench_preview(sessions, pid)
        print(row(f"preview: snapshot + render_html, median {PREVIEW_RUNS}", kind,
                  _ms(r["total"]), "target < 50 ms"))
        print(row("  build_snapshot()", kind, _ms(r["snapshot"]),
                  f"{r['snapshot'] / r['total']:.0%} of preview"))
        print(row("  render_html()", kind, _ms(r["render"]),
                  f"{r['render'] / r['total']:.0%} of preview"))
        print(row("  first preview (cold caches)", kind, _ms(r["cold"]), ""))
        print(row("  HTML size", kind, f"{r['bytes'] / 1024:,.1f} KiB",
                  f"{r['clauses']} articles ({r['complete']} complete), "
                  f"{r['assets']} assets"))
