"""Stored files sent back as downloads, by the pages and the API alike."""

from __future__ import annotations

import io

from flask import send_file


def attachment(content: bytes, filename: str, etag: str,
               media_type: str = "application/pdf"):
    """`content` as a download named `filename`: conditional on its ETag, never cached by
    shared caches. Flask writes the name as RFC 6266 asks (an ASCII fallback and the UTF-8
    name), so a name in any script (a counterpart's own) reaches the browser intact."""
    name = "".join(ch if ch.isprintable() else "_" for ch in filename) or "document"
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=True,
                         download_name=name, etag=etag, conditional=True)
    response.direct_passthrough = False  # in memory anyway; the API's response check reads it
    response.headers["Cache-Control"] = "private, no-store"
    return response
