"""Upload forms (multipart, CSRF-protected)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class UploadForm(FlaskForm):
    file = FileField("Signed PDF", validators=[
        FileRequired("Choose the signed PDF."), FileAllowed(["pdf"], "Upload a PDF file.")])
    submit = SubmitField("Upload and verify")


class WetInkForm(FlaskForm):
    file = FileField("Scanned signed copy (PDF or image)", validators=[
        FileRequired("Choose the scan."),
        FileAllowed(["pdf", "png", "jpg", "jpeg"], "Upload a PDF, PNG or JPEG scan.")])
    note = TextAreaField("Attestation note (who signed, when, how the original was received)",
                         validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField("Record attested scan")
