"""Forms of the partnership pages (every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from workflow.agreement_types import AGREEMENT_TYPES
from workflow.roles import PARTY_ROLES


class VersionedForm(FlaskForm):
    """A form that edits a partnership at a known version (optimistic lock)."""

    expected_version = IntegerField(
        widget=HiddenInput(), validators=[DataRequired(), NumberRange(min=1)]
    )


class TransitionForm(VersionedForm):
    comment = TextAreaField("Comment", validators=[Optional(), Length(max=5000)])
    submit = SubmitField("Go")


class PartnershipForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=200)])
    agreement_type = SelectField(
        "Agreement type", choices=[SelectChoice(k, v[0]) for k, v in AGREEMENT_TYPES.items()]
    )
    sector = StringField("Sector", validators=[Optional(), Length(max=80)])
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
    lead_org = SelectField("Lead party (EU cluster or member)", coerce=int)
    counterpart_org = SelectField("Counterpart", coerce=int)
    submit = SubmitField("Create partnership")


class PartyForm(VersionedForm):
    organisation_id = SelectField("Organisation", coerce=int)
    role = SelectField(
        "Role in the agreement", choices=[SelectChoice(r, r.capitalize()) for r in PARTY_ROLES]
    )
    signatory_name = StringField("Signatory name", validators=[Optional(), Length(max=120)])
    signatory_title = StringField("Signatory title", validators=[Optional(), Length(max=120)])
    signatory_email = EmailField(
        "Signatory email", validators=[Optional(), Email(check_deliverability=False)]
    )
    submit = SubmitField("Save party")


class CheckForm(VersionedForm):
    done = BooleanField("Done")
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Save")


class DeclareNoneForm(VersionedForm):
    none = BooleanField("This party brings no background IP")
    submit = SubmitField("Save declaration")


class EditPartnershipForm(VersionedForm):
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=200)])
    sector = StringField("Sector", validators=[Optional(), Length(max=80)])
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
    submit = SubmitField("Save")
