"""GDPR requests about one data subject across every store (issue 19).

    subject.py      the subject's identifiers (email, phone, name), normalised, matched and redacted in text
    places.py       where owned data lives (raw documents, items, lake files, packages, exports), scoped per principal
    search.py       every place the subject appears, with a masked snippet
    export.py       a ZIP archive (manifest + matching records) of everything found
    erase.py        erasure across the stores, with a report of what changed (run as a job: jobs.py)
    packages.py     unsold package versions rebuilt without the subject, sold ones flagged for their buyers
    suppression.py  hashed identifiers checked on ingest, so a re-scrape does not bring the data back
"""
