"""A check-in submission's writes, committed together: the link's first opening, the response with
its audit event, and the job that recomputes the episode's alerts (one commit:
alliance.care.tasks.schedule_recompute says why).

When the link's lookup found no response for this form yet, the four rows are a chain
(alliance.core.chain). On PostgreSQL that is one statement (BEGIN, four statements and COMMIT were six
round trips, a third of the submission's database work; issue 10, point 6). On SQLite it is the four
statements as plain SQL, in a transaction that other submissions' chains may share (one COMMIT for
several: alliance.core.group_commit). Otherwise (a form that may have been answered before) they are
written through the models in a transaction of their own. What is stored is the same either way
(tests/checkin/test_submission.py compares the two).
"""

from __future__ import annotations

from django.db import transaction

from alliance.care.responses import PendingResponse, Recorded
from alliance.care.tasks import JobAtCommit
from alliance.checkin.links import opening_part, record_opening
from alliance.checkin.models import CheckinLink
from alliance.core import chain
from alliance.operations.task_backend import PreparedJob


def store(
    link: CheckinLink,
    pending: PendingResponse,
    job: PreparedJob | JobAtCommit,
    *,
    known_new: bool,
) -> Recorded:
    """Store the submission. `job` is what `prepare_recompute` returned; `known_new`: the lookup read
    in this request that this form has no response yet (PendingResponse.store says what that
    saves, and a concurrent submission of the same form still stores once)."""
    if known_new and isinstance(job, PreparedJob) and chain.supported():
        opening = opening_part(link)
        parts = [*([opening] if opening else []), *pending.chained("response"), job.part()]
        returned = chain.execute(parts, result="response")
        job.chained()
        return pending.chain_stored(returned[0] if returned else None)
    with transaction.atomic():
        record_opening(link)
        recorded = pending.store(known_new=known_new)
        if recorded.created:
            # A response found already stored (a double submit, a retry) committed with its own
            # recompute job: another would only repeat it.
            job.enqueue()
    return recorded
