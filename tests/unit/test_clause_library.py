"""Clause library: loading, strict validation, variable values and rendering."""

from __future__ import annotations

import ast
import copy
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.library import (
    CONTEXT_NAMES,
    LIBRARY_ROOT,
    LibraryError,
    Option,
    load_library,
    render_option_text,
    standard_text,
    validate_variables,
)

CONTEXT = {
    "lead_party": "bioPmed",
    "counterpart": "Shenzhen Lumina Medical Devices Co., Ltd.",
    "counterpart_country": "China",
    "eu_parties": "bioPmed, Lyonbiopole",
    "agreement_title": "MAGIA photonics partnership",
}

SAMPLE_VALUES = {
    "string": "Sample value",
    "text": "First line of a sample text\nsecond line",
    "integer": None,  # filled from the variable's bounds
    "decimal": "250000",
    "boolean": True,
    "date": "2026-01-31",
    "country": "IT",
    "eu_eea_country": "IT",
    "city": "Geneva",
}

# DOMAIN.md section 5: every clause with every option it lists.
CATALOGUE = {
    "definitions": {"standard"},
    "background_ip": {"positive_list"},
    "ownership_of_results": {
        "generating_party", "joint_a", "joint_b", "assigned_to_eu_party", "counterpart_owns",
    },
    "transfer_of_results": {"notice_and_objection"},
    "access_rights_implementation": {"royalty_free"},
    "access_rights_exploitation": {"fair_and_reasonable", "royalty_free"},
    "confidentiality": {"standard", "nnn"},
    "publication": {"prior_notice"},
    "ip_protection_third_countries": {
        "file_before_disclosure", "file_before_disclosure_with_registration",
    },
    "export_control": {"eu_dual_use"},
    "liability": {"share_of_costs", "contract_value"},
    "governing_law": {"belgian_law", "lead_party_member_state", "other_law"},
    "language": {"english", "bilingual"},
    "dispute_resolution": {"wipo_mediation_arbitration", "icc_arbitration", "eu_courts"},
    "term_and_termination": {"fixed_term"},
    "signatures": {"separate_pages"},
}

DEFAULT_OPTIONS = {
    "ownership_of_results": "generating_party",
    "access_rights_exploitation": "fair_and_reasonable",
    "confidentiality": "standard",
    "governing_law": "belgian_law",
    "language": "english",
    "dispute_resolution": "wipo_mediation_arbitration",
}

# Numbers DOMAIN.md gives, as (clause, option, variable, default).
DOMAIN_NUMBERS = [
    ("ownership_of_results", "joint_a", "notice_days", 45),
    ("transfer_of_results", "notice_and_objection", "notice_days", 45),
    ("access_rights_exploitation", "fair_and_reasonable", "request_months", 12),
    ("access_rights_exploitation", "royalty_free", "request_months", 12),
    ("confidentiality", "standard", "term_years", 4),
    ("confidentiality", "nnn", "term_years", 4),
    ("confidentiality", "standard", "confirmation_days", 15),
    ("confidentiality", "nnn", "confirmation_days", 15),
    ("publication", "prior_notice", "notice_days", 45),
    ("publication", "prior_notice", "objection_days", 30),
    ("publication", "prior_notice", "max_delay_days", 90),
    ("liability", "share_of_costs", "cap_percentage", "100%"),
    ("liability", "contract_value", "cap_percentage", "100%"),
]

MANDATORY = {
    "collaboration": set(CATALOGUE),
    "nda": {
        "purpose_and_scope", "confidentiality", "return_of_information",
        "no_licence_or_warranty", "agreement_term", "governing_law", "language",
        "dispute_resolution", "signatures",
    },
}
MANDATORY["nnn"] = MANDATORY["nda"]


@pytest.fixture(scope="module")
def library():
    return load_library()


def _all_options():
    lib = load_library()
    return [(c.key, o.key) for c in lib.clauses for o in c.options]


def sample_values(option: Option, flag: bool = True) -> dict[str, object]:
    """Defaults, with a sample for every variable that has none; booleans set to flag."""
    values: dict[str, object] = {}
    for variable in option.variables:
        if variable.type == "boolean":
            values[variable.name] = flag
        elif variable.default is not None:
            values[variable.name] = variable.default
        elif variable.type == "integer":
            values[variable.name] = variable.min if variable.min is not None else 7
        elif variable.type == "choice":
            values[variable.name] = variable.choices[0]
        else:
            values[variable.name] = SAMPLE_VALUES[variable.type]
    return values


# ---------------------------------------------------------------- the shipped library

def test_every_clause_file_loads_as_one_clause(library):
    files = sorted((LIBRARY_ROOT / "clauses").glob("*.yaml"))
    assert len(files) == len(library.clauses)
    assert {c.source.rsplit("/", 1)[-1] for c in library.clauses} == {f.name for f in files}
    assert [c.order for c in library.clauses] == sorted(c.order for c in library.clauses)


def test_domain_catalogue_clauses_have_the_listed_options(library):
    for clause_key, option_keys in CATALOGUE.items():
        clause = library.clause(clause_key)
        assert option_keys <= {o.key for o in clause.options}, clause_key
    for clause_key, option_key in DEFAULT_OPTIONS.items():
        assert library.clause(clause_key).default_option == option_key


@pytest.mark.parametrize(("clause_key", "option_key", "name", "default"), DOMAIN_NUMBERS)
def test_domain_numbers_are_variables_with_domain_defaults(
    library, clause_key, option_key, name, default
):
    assert library.clause(clause_key).option(option_key).variable(name).default == default


def test_dispute_resolution_names_the_seat_of_arbitration_as_a_variable(library):
    clause = library.clause("dispute_resolution")
    for option_key in ("wipo_mediation_arbitration", "icc_arbitration"):
        seat = clause.option(option_key).variable("arbitration_seat")
        assert seat.type == "city" and seat.required
        seat_country = clause.option(option_key).variable("seat_country")
        assert seat_country.type == "country" and seat_country.default not in {"CN", None}


@pytest.mark.parametrize("agreement_type", ["collaboration", "nda", "nnn"])
def test_each_agreement_type_has_its_mandatory_clauses(library, agreement_type):
    clauses = library.clauses_for(agreement_type)
    mandatory = {c.key for c in clauses if c.is_mandatory_for(agreement_type)}
    assert MANDATORY[agreement_type] <= mandatory


def test_agreement_types_default_to_their_workflows(library):
    workflows = {t.key: t.workflow for t in library.agreement_types}
    assert workflows == {"collaboration": "cluster_partnership", "nda": "nda", "nnn": "nda"}
    assert library.default_option_for("confidentiality", "nnn").key == "nnn"
    assert library.default_option_for("confidentiality", "nda").key == "standard"


def test_jurisdiction_selectors_recommend_the_safeguards(library):
    nnn = library.clause("confidentiality").option("nnn")
    assert nnn.is_recommended_for("CN")
    assert nnn.is_recommended_for("IN", tiers={"priority_watch_list"})
    assert not nnn.is_recommended_for("JP")
    filing = library.clause("ip_protection_third_countries").option("file_before_disclosure")
    assert filing.is_recommended_for("MX", tiers={"priority_watch_list"})
    registration = library.clause("ip_protection_third_countries").option(
        "file_before_disclosure_with_registration")
    assert registration.is_recommended_for("BR") and registration.is_recommended_for("CL")


@pytest.mark.parametrize(("clause_key", "option_key"), _all_options())
@pytest.mark.parametrize("flag", [True, False], ids=["flags_on", "flags_off"])
def test_every_option_renders_with_defaults_and_sample_context(
    library, clause_key, option_key, flag
):
    option = library.clause(clause_key).option(option_key)
    clean, errors = validate_variables(option, sample_values(option, flag))
    assert errors == {}
    paragraphs = render_option_text(option, clean, CONTEXT)
    assert 1 <= len(paragraphs) <= 6
    for paragraph in paragraphs:
        assert paragraph.strip() == paragraph and paragraph
        assert "{{" not in paragraph and "{%" not in paragraph and "None" not in paragraph
        assert "  " not in paragraph and " ." not in paragraph and " ," not in paragraph
    assert standard_text(option) == option.text


def test_load_library_is_fast():
    best = min(_timed(load_library) for _ in range(3))
    assert best < 0.2


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def test_library_module_is_framework_free():
    tree = ast.parse((LIBRARY_ROOT / "library.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "flask_login", "flask_wtf", "sqlalchemy", "web"}


# ---------------------------------------------------------------- loader validation

BASE_CLAUSE = {
    "key": "sample_clause",
    "order": 30,
    "category": "ipr",
    "title": "Sample clause",
    "applies_to": ["collaboration"],
    "mandatory_for": ["collaboration"],
    "guidance": "A clause used by the tests.",
    "default_option": "joint_a",
    "options": [
        {
            "key": "joint_a",
            "label": "Joint ownership A",
            "summary": "Notice before licensing.",
            "text": "Each Joint Owner gives {{ notice_days }} days' notice.\n\n"
                    "{{ counterpart }} is bound as well.",
            "variables": [{
                "name": "notice_days", "label": "Notice period (days)", "type": "integer",
                "default": 45, "required": True, "min": 1, "max": 365,
            }],
            "recommended_for": [],
            "required_for": [],
        },
        {
            "key": "joint_b",
            "label": "Joint ownership B",
            "summary": "Free licensing.",
            "text": "Each Joint Owner may license freely.\n\nCosts are shared.",
            "variables": [],
        },
    ],
}
FILE = "contracts/clauses/030_sample_clause.yaml"
AGREEMENT_TYPES = [
    {"key": key, "label": key.upper(), "description": f"The {key} type.", "workflow": "nda"}
    for key in ("collaboration", "nda", "nnn")
]


def write_library(tmp_path: Path, clause: dict, name: str = "030_sample_clause.yaml") -> Path:
    root = tmp_path / "contracts"
    (root / "clauses").mkdir(parents=True)
    (root / "agreement_types.yaml").write_text(yaml.safe_dump(AGREEMENT_TYPES),
                                               encoding="utf-8")
    (root / "clauses" / name).write_text(yaml.safe_dump(clause, sort_keys=False),
                                         encoding="utf-8")
    return root


def test_minimal_library_loads(tmp_path):
    library = load_library(write_library(tmp_path, BASE_CLAUSE))
    assert [c.key for c in library.clauses] == ["sample_clause"]
    assert library.clause("sample_clause").source == FILE


def _unknown_key(c):
    c["colour"] = "blue"


def _unknown_option_key(c):
    c["options"][0]["colour"] = "blue"


def _missing_default_option(c):
    c["default_option"] = "joint_c"


def _undeclared_variable(c):
    c["options"][1]["text"] += " Within {{ objection_days }} days."


def _unused_variable(c):
    c["options"][0]["text"] = "No variable here.\n\n{{ counterpart }} is bound as well."


def _bad_default(c):
    c["options"][0]["variables"][0]["default"] = "x"


def _default_out_of_range(c):
    c["options"][0]["variables"][0]["default"] = 400


def _duplicate_option_key(c):
    c["options"][1]["key"] = "joint_a"


def _mandatory_not_subset(c):
    c["mandatory_for"] = ["collaboration", "nda"]


def _unknown_agreement_type(c):
    c["applies_to"] = ["collaboration", "joint_venture"]


def _unknown_variable_type(c):
    c["options"][0]["variables"][0]["type"] = "money"


def _duplicate_variable(c):
    c["options"][0]["variables"].append(dict(c["options"][0]["variables"][0]))


def _filter_in_template(c):
    c["options"][0]["text"] = "Notice of {{ notice_days|int }} days.\n\nSecond paragraph."


def _bad_selector(c):
    c["options"][0]["recommended_for"] = ["XX"]


def _too_many_paragraphs(c):
    c["options"][1]["text"] = "\n\n".join(["Paragraph."] * 7)


def _key_differs_from_file(c):
    c["key"] = "other_clause"


def _template_syntax_error(c):
    c["options"][1]["text"] = "Broken {% if %}.\n\nSecond paragraph."


BROKEN = [
    (_unknown_key, "unknown key 'colour'"),
    (_unknown_option_key, "option #1: unknown key 'colour'"),
    (_missing_default_option, "default_option 'joint_c'"),
    (_undeclared_variable, "option 'joint_b': text uses undeclared variable 'objection_days'"),
    (_unused_variable, "option 'joint_a': variable 'notice_days' is declared but not used"),
    (_bad_default, "option 'joint_a': variable 'notice_days': default 'x' is invalid: "
                   "Notice period (days) must be a whole number between 1 and 365"),
    (_default_out_of_range, "variable 'notice_days': default 400 is invalid"),
    (_duplicate_option_key, "option 'joint_a' is defined twice"),
    (_mandatory_not_subset, "mandatory_for 'nda' is not in applies_to"),
    (_unknown_agreement_type, "unknown agreement type 'joint_venture'"),
    (_unknown_variable_type, "variable 'notice_days': unknown type 'money'"),
    (_duplicate_variable, "option 'joint_a': variable 'notice_days' is declared twice"),
    (_filter_in_template, "option 'joint_a': only {{ name }} substitutions are allowed"),
    (_bad_selector, "option 'joint_a': invalid jurisdiction selector 'XX'"),
    (_too_many_paragraphs, "option 'joint_b': text has 7 paragraphs"),
    (_key_differs_from_file, "key 'other_clause' must be snake_case and equal 'sample_clause'"),
    (_template_syntax_error, "option 'joint_b': template does not compile"),
]


@pytest.mark.parametrize(("breaks", "message"), BROKEN, ids=[b.__name__[1:] for b, _ in BROKEN])
def test_broken_clause_file_names_file_and_item(tmp_path, breaks, message):
    clause = copy.deepcopy(BASE_CLAUSE)
    breaks(clause)
    root = write_library(tmp_path, clause)
    with pytest.raises(LibraryError) as caught:
        load_library(root)
    assert str(caught.value).startswith(FILE + ": ")
    assert message in str(caught.value)


@pytest.mark.parametrize(("default_options", "message"), [
    ({"confidentiality": "nnn"}, "default option of 'confidentiality': no such clause"),
    ({"sample_clause": "joint_c"}, "default option of 'sample_clause': unknown option 'joint_c'"),
])
def test_agreement_type_default_options_are_checked(tmp_path, default_options, message):
    root = write_library(tmp_path, BASE_CLAUSE)
    types = copy.deepcopy(AGREEMENT_TYPES)
    types[0]["default_options"] = default_options
    (root / "agreement_types.yaml").write_text(yaml.safe_dump(types), encoding="utf-8")
    with pytest.raises(LibraryError) as caught:
        load_library(root)
    assert str(caught.value).startswith("contracts/agreement_types.yaml: agreement type "
                                        "'collaboration': ")
    assert message in str(caught.value)


def test_duplicate_yaml_mapping_key_is_rejected(tmp_path):
    root = write_library(tmp_path, BASE_CLAUSE)
    path = root / "clauses" / "030_sample_clause.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "title: Second title\n", encoding="utf-8")
    with pytest.raises(LibraryError, match="030_sample_clause.yaml: invalid YAML.*duplicate key"):
        load_library(root)


def test_duplicate_order_across_files_is_rejected(tmp_path):
    root = write_library(tmp_path, BASE_CLAUSE)
    other = copy.deepcopy(BASE_CLAUSE) | {"key": "other_clause"}
    (root / "clauses" / "031_other_clause.yaml").write_text(yaml.safe_dump(other),
                                                             encoding="utf-8")
    with pytest.raises(LibraryError, match=r"031_other_clause.yaml: order 30 also used in .*030"):
        load_library(root)


# ---------------------------------------------------------------- variable values

@pytest.fixture(scope="module")
def joint_a(library):
    return library.clause("ownership_of_results").option("joint_a")


def test_form_strings_are_coerced(library):
    option = library.clause("ownership_of_results").option("counterpart_owns")
    clean, errors = validate_variables(option, {
        "licence_field": "  photonic sensors  ", "licence_territory": "Canada",
        "exclusive": "on", "royalty_free": "false",
    })
    assert errors == {}
    assert clean == {"licence_field": "photonic sensors", "licence_territory": "Canada",
                     "exclusive": True, "royalty_free": False}
    clean, errors = validate_variables(
        library.clause("ownership_of_results").option("joint_a"), {"notice_days": " 60 "})
    assert (clean, errors) == ({"notice_days": 60}, {})


def test_typed_json_values_are_accepted(library):
    option = library.clause("liability").option("contract_value")
    clean, errors = validate_variables(option, {"cap_percentage": "200%",
                                                "contract_value_eur": 1250000.5})
    assert errors == {} and clean["contract_value_eur"] == Decimal("1250000.5")
    assert render_option_text(option, clean, CONTEXT)[1].endswith(
        "limited to 200% of the contract value of EUR 1,250,000.50. This limitation does not "
        "apply in case of wilful misconduct or gross negligence.")


@pytest.mark.parametrize("raw", ["x", "4.5", "0", "366", True, 1e3, "1_000", "٤٥"])
def test_ill_typed_integer_gives_the_message(joint_a, raw):
    clean, errors = validate_variables(joint_a, {"notice_days": raw})
    assert errors == {
        "notice_days": "Notice before licensing (days) must be a whole number between 1 and 365"
    }
    assert "notice_days" not in clean


def test_missing_required_value_is_an_error(joint_a):
    clean, errors = validate_variables(joint_a, {"notice_days": "  "})
    assert errors == {"notice_days": "Notice before licensing (days) is required"}


def test_unknown_variable_name_is_an_error(joint_a):
    _, errors = validate_variables(joint_a, {"notice_days": 45, "royalty": "5%"})
    assert errors == {"royalty": "Unknown variable 'royalty'"}


def test_missing_optional_values_take_their_defaults(library):
    option = library.clause("transfer_of_results").default
    clean, errors = validate_variables(option, {"notice_days": 45, "objection_days": 30})
    assert errors == {} and clean["approved_transferees"] is None
    option = library.clause("signatures").default
    assert validate_variables(option, {}) == ({"electronic_signatures": True}, {})


@pytest.mark.parametrize(("clause_key", "option_key", "name", "raw", "message"), [
    ("governing_law", "lead_party_member_state", "member_state", "ZZ",
     "Member State of the lead Party must be a two-letter ISO 3166-1 country code, such as BE"),
    ("dispute_resolution", "eu_courts", "court_city", "Brussels\nParis",
     "City whose courts have jurisdiction must be a single line"),
    ("dispute_resolution", "eu_courts", "court_city", "1234",
     "City whose courts have jurisdiction must be the name of a city"),
    ("dispute_resolution", "icc_arbitration", "arbitrators", "five arbitrators",
     "Number of arbitrators must be one of: a sole arbitrator, three arbitrators"),
    ("governing_law", "other_law", "law_name", "Swiss\x00 law",
     "Governing law must not contain control characters"),
    ("governing_law", "other_law", "law_name", "Swiss \u202elaw",
     "Governing law must not contain control characters"),
    ("governing_law", "other_law", "law_name", "x" * 121,
     "Governing law must be at most 120 characters"),
    ("signatures", "separate_pages", "electronic_signatures", "maybe",
     "Electronic signatures accepted must be yes or no"),
    ("liability", "contract_value", "contract_value_eur", "1,000",
     "Contract value (EUR) must be a number between 0 and 1000000000"),
])
def test_ill_typed_values_give_a_human_message(library, clause_key, option_key, name, raw,
                                               message):
    option = library.clause(clause_key).option(option_key)
    _, errors = validate_variables(option, {name: raw})
    assert errors[name] == message


def test_country_and_date_values(tmp_path):
    clause = copy.deepcopy(BASE_CLAUSE)
    clause["options"][1]["text"] = "Signed on {{ signed_on }} in {{ country }}.\n\nSecond."
    clause["options"][1]["variables"] = [
        {"name": "signed_on", "label": "Signing date", "type": "date", "default": None,
         "required": True},
        {"name": "country", "label": "Country", "type": "country", "default": "BE",
         "required": False},
    ]
    option = load_library(write_library(tmp_path, clause)).clause("sample_clause").option(
        "joint_b")
    clean, errors = validate_variables(option, {"signed_on": "2026-01-31", "country": "kr"})
    assert clean == {"signed_on": date(2026, 1, 31), "country": "KR"} and errors == {}
    assert render_option_text(option, clean, CONTEXT)[0] == (
        "Signed on 31 January 2026 in South Korea.")
    _, errors = validate_variables(option, {"signed_on": "2026-02-30"})
    assert errors == {"signed_on": "Signing date must be a date in the form YYYY-MM-DD"}


# ---------------------------------------------------------------- rendering

@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "{{ 7*7 }}",
                                     "{% if true %}x{% endif %}", "{{ counterpart }}"])
def test_values_are_inserted_verbatim_never_evaluated(library, payload):
    option = library.clause("governing_law").option("other_law")
    clean, errors = validate_variables(option, {"law_name": payload})
    assert errors == {}
    first = render_option_text(option, clean, CONTEXT)[0]
    assert f"is governed by {payload}, excluding" in first
    assert "49" not in first


def test_context_values_are_inserted_verbatim(library):
    option = library.clause("definitions").default
    context = CONTEXT | {"counterpart": "<b>{{ 7*7 }}</b>"}
    assert "means <b>{{ 7*7 }}</b>, established" in render_option_text(option, {}, context)[0]


def test_render_rejects_missing_and_unknown_values(library, joint_a):
    with pytest.raises(LibraryError, match="option 'joint_a': missing value for variable"):
        render_option_text(joint_a, {}, CONTEXT)
    with pytest.raises(LibraryError, match="unknown variable 'royalty'"):
        render_option_text(joint_a, {"notice_days": 45, "royalty": 1}, CONTEXT)
    with pytest.raises(LibraryError, match="must be a whole number"):
        render_option_text(joint_a, {"notice_days": "soon"}, CONTEXT)


def test_render_rejects_missing_context(library):
    option = library.clause("definitions").default
    with pytest.raises(LibraryError, match="context 'counterpart' must be provided"):
        render_option_text(option, {}, {k: v for k, v in CONTEXT.items() if k != "counterpart"})


def test_conditional_paragraph_disappears_when_its_flag_is_off(library):
    option = library.clause("export_control").default
    on = render_option_text(option, {"end_use_statement": True, "counterpart_regime": None},
                            CONTEXT)
    off = render_option_text(option, {"end_use_statement": False, "counterpart_regime": None},
                             CONTEXT)
    assert len(on) == 5 and len(off) == 4
    assert not any("end-use statement" in p for p in off)


# ---------------------------------------------------------------- content hashes

def test_changed_option_text_changes_only_that_options_hash(tmp_path):
    before = load_library(write_library(tmp_path / "a", BASE_CLAUSE))
    changed = copy.deepcopy(BASE_CLAUSE)
    changed["options"][1]["text"] = changed["options"][1]["text"].replace("freely", "openly")
    after = load_library(write_library(tmp_path / "b", changed))
    old, new = before.clause("sample_clause"), after.clause("sample_clause")
    assert old.option("joint_a").content_hash == new.option("joint_a").content_hash
    assert old.option("joint_b").content_hash != new.option("joint_b").content_hash
    assert old.content_hash != new.content_hash
    assert before.content_hash != after.content_hash


def test_content_hashes_are_stable_across_loads(library):
    again = load_library()
    assert again.content_hash == library.content_hash
    assert [o.content_hash for c in again.clauses for o in c.options] == [
        o.content_hash for c in library.clauses for o in c.options]


def test_context_names_are_the_documented_ones():
    assert CONTEXT_NAMES == set(CONTEXT)


# ---------------------------------------------------------------- property

@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=300))
def test_any_string_value_renders_verbatim_or_is_rejected(value):
    option = _OTHER_LAW
    clean, errors = validate_variables(option, {"law_name": value})
    if errors:
        assert set(errors) == {"law_name"} and errors["law_name"].startswith("Governing law ")
        return
    assert clean["law_name"] == value.strip()
    first = render_option_text(option, clean, CONTEXT)[0]
    assert f"is governed by {value.strip()}, excluding" in first


_OTHER_LAW = load_library().clause("governing_law").option("other_law")
