"""Forms of the clause and register pages. Clause variables are typed by the library, so
their inputs are rendered from the option's variable list and validated by the service."""

from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from workflow.roles import ASSET_TYPES

from ..partnerships.forms import VersionedForm


class ClauseForm(VersionedForm):
    option = RadioField("Option", validators=[DataRequired()])
    included = BooleanField("Include this clause in the agreement", default=True)
    override_text = TextAreaField(
        "Negotiated wording (optional; replaces the library text and is shown to reviewers "
        "as a deviation)", validators=[Optional(), Length(max=20000)])
    submit = SubmitField("Save clause")


class AssetForm(VersionedForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    asset_type = SelectField("Type", choices=[
        SelectChoice(t, t.replace("_", " ").capitalize()) for t in ASSET_TYPES])
    identifiers = StringField("Identifiers (e.g. filing or registration numbers)",
                              validators=[Optional(), Length(max=400)])
    jurisdictions = StringField("Jurisdictions", validators=[Optional(), Length(max=400)])
    restrictions = TextAreaField("Restrictions", validators=[Optional(), Length(max=4000)])
    access_implementation = TextAreaField("Access terms for implementation",
                                          validators=[Optional(), Length(max=4000)])
    access_exploitation = TextAreaField("Access terms for exploitation",
                                        validators=[Optional(), Length(max=4000)])
    submit = SubmitField("Save asset")


class ConfirmForm(VersionedForm):
    submit = SubmitField("Confirm")
