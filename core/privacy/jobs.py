"""The erasure as a background job (Privacy page), with progress; the same function as a direct call."""

from __future__ import annotations

from core.privacy.erase import erase_subject
from core.privacy.subject import Subject
from core.store.jobs import job_function
from core.store.models import Job
from core.store.sql import session_scope


def _forget_identifiers(job_id: int | None, subject: Subject) -> None:
    """The job row outlives the erasure: keep only the keyed subject hash there, not the email or name."""
    if job_id is None:
        return
    with session_scope() as session:
        job = session.get(Job, job_id)
        job.params = {"subject_key": subject.key()}
        session.add(job)


@job_function("privacy_erase", roles=("supplier", "admin"))
def privacy_erase_job(ctx, params: dict) -> dict:
    subject = Subject(tuple(params.get("emails", ())), tuple(params.get("phones", ())),
                      tuple(params.get("names", ())))
    _forget_identifiers(ctx.job_id, subject)
    report = erase_subject(ctx.principal, subject, job_id=ctx.job_id, progress=ctx.progress)
    for store, counts in report.items():
        if store != "erasure_id":
            ctx.log(f"{store}: {counts}")
    return report
