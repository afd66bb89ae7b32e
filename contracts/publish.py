"""The library as plain data for publishing, and compiled options rebuilt from stored data."""

from __future__ import annotations

from .library import Library, Option, _build_option, _hash, load_library


def library_payload(library: Library | None = None) -> list[dict]:
    """One dict per clause for `workflow.services.library.sync_library`."""
    library = library or load_library()
    payload = []
    for clause in library.clauses:
        data = clause.as_dict()
        # Agreement-type defaults (e.g. NNN confidentiality for NNN agreements) travel with
        # the clause, so a changed default is a new version like a changed text.
        data["default_for"] = {
            t.key: t.default_options[clause.key]
            for t in library.agreement_types if clause.key in t.default_options
        }
        payload.append({
            "key": clause.key, "order": clause.order, "title": clause.title,
            "category": clause.category, "content_hash": _hash(data), "data": data,
        })
    return payload


_COMPILED: dict[tuple[int, str, str], Option] = {}


def compiled_option(library_version, option_key: str) -> Option:
    """A renderable option of a stored library version, compiled once per process.

    Versions never change, so (id, content hash, option) identifies the compiled template
    and the stored data is read only on the first use.
    """
    key = (library_version.id, library_version.content_hash, option_key)
    option = _COMPILED.get(key)
    if option is None:
        if len(_COMPILED) > 4096:
            _COMPILED.clear()
        data = next(o for o in library_version.data["options"] if o["key"] == option_key)
        where = f"stored clause '{library_version.clause_key}' v{library_version.version}"
        option = _COMPILED[key] = _build_option(data, library_version.clause_key, where, where)
    return option
