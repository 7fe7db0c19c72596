"""Listing bot (issue 14): drafts a listing from structured fields or a rough note, suggests a price, checks it
for personal data and required fields, and keeps the user's drafts with their versions. Nothing is posted to
any real site: drafts are exported (JSON, CSV, Markdown) for the user to post themselves.

    note or fields -> parse (note.py) -> fields -> price (pricing.py) -> text (templates.py, or openai_drafts.py)
                   -> checks (checks.py: PII, required fields) -> drafts.py (SQL, owned, versioned) -> export.py
"""
