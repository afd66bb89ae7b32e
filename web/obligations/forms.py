"""Forms of the publication and objection pages (every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class PublicationForm(FlaskForm):
    party_id = SelectField("Publishing party", coerce=int, validators=[InputRequired()])
    title = StringField("Title of the publication",
                        validators=[DataRequired(), Length(max=300)])
    venue = StringField("Journal, conference or medium", validators=[Optional(),
                                                                     Length(max=300)])
    planned_on = DateField("Planned publication date", validators=[
        DataRequired(message="Enter the planned date (YYYY-MM-DD).")])
    submit = SubmitField("Give notice of the publication")


class ObjectionForm(FlaskForm):
    party_id = SelectField("Objecting party", coerce=int, validators=[InputRequired()])
    reason = TextAreaField("Reason (the legitimate interest the publication would harm)",
                           validators=[DataRequired(), Length(max=5000)])
    requested_change = TextAreaField(
        "Requested change (e.g. remove confidential information, delay until a filing)",
        validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField("Record the objection")


class DoneForm(FlaskForm):
    submit = SubmitField("Mark done")
