"""Template globals and filters."""

from __future__ import annotations

from workflow import agreement_types
from workflow.countries import country_name, is_eu_eea
from workflow.definitions import get_workflow
from workflow.roles import ORG_KIND_LABELS

from .auth.forms import LogoutForm


def stage_label(partnership) -> str:
    """The human label of a partnership's current stage."""
    state = get_workflow(partnership.workflow_key).state(partnership.stage)
    return state.label if state else partnership.stage


def init_templating(app) -> None:
    app.jinja_env.filters.update(
        country_name=country_name,
        stage_label=stage_label,
        agreement_label=agreement_types.label,
        org_kind=lambda k: ORG_KIND_LABELS.get(k, k),
        dt=lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "",
        reject_key=lambda args, key: {k: v for k, v in args.items() if k != key},
    )
    app.jinja_env.globals.update(is_eu_eea=is_eu_eea, logout_form=LogoutForm)
