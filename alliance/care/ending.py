"""Ending an episode well, and its termination summaries.

Ending sets the status, the end date and the reason together (the model's `episode_end_is_complete`
constraint), cancels the sessions still booked after the end and revokes their check-in links, so a
client never receives a link for a session that will not happen. Before that, the ending page prompts
for final measures: the last attended session should have an outcome measure.

The summaries come in two versions: for the record (scores, reliable change, the NHS Talking Therapies
outcome, goals, the relationship over time, ruptures and repairs, attendance) and for the client (plain
words, their own goals and chart, what client and therapist learned together; alliance.care.progress).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from alliance.accounts.audit import log_event
from alliance.care import charts, progress, safety_plan, words
from alliance.care.models import (
    Alert,
    AlertKind,
    AlertSeverity,
    AlertStatus,
    Appointment,
    Attendance,
    EndReason,
    Episode,
    EpisodeStatus,
    Goal,
    Respondent,
    Response,
)
from alliance.checkin.copy import supported
from alliance.checkin.models import CheckinLink
from alliance.measures import get_instrument, nhs
from alliance.measures.change import threshold_change

DASH = "\N{EN DASH}"
# alliance.measures.change names a change's outcome in plain English words (pure code, no Django);
# the record prints them in the reader's language.
CHANGE_OUTCOMES = {
    "reliable improvement": gettext_lazy("reliable improvement"),
    "reliable deterioration": gettext_lazy("reliable deterioration"),
    "no reliable change": gettext_lazy("no reliable change"),
}


@dataclass(frozen=True)
class FinalMeasures:
    """Whether the last attended session has an outcome measure, and where to get one."""

    last_attended: Appointment | None
    has_outcome: bool
    next_scheduled: Appointment | None

    @property
    def missing(self) -> bool:
        return not self.has_outcome

    @property
    def checkin_appointment(self) -> Appointment | None:
        """The session page to send a last check-in from: the next booked session, else the last."""
        return self.next_scheduled or self.last_attended


def final_measures(episode: Episode) -> FinalMeasures:
    appointments = Appointment.objects.filter(episode=episode)
    last = appointments.filter(attendance=Attendance.ATTENDED).order_by("-session_number").first()
    has_outcome = last is not None and (
        Response.objects.filter(
            appointment=last,
            respondent=Respondent.CLIENT,
            instrument__in=episode.outcome_instruments or charts.OUTCOMES,
        ).exists()
    )
    upcoming = (
        appointments.filter(attendance=Attendance.SCHEDULED, scheduled_at__gte=timezone.now())
        .order_by("scheduled_at")
        .first()
    )
    return FinalMeasures(last, has_outcome, upcoming)


def remaining_appointments(episode: Episode, ended_on: date) -> Any:
    """Sessions still booked after the ending: later than now, or after the end date."""
    return Appointment.objects.filter(episode=episode, attendance=Attendance.SCHEDULED).filter(
        Q(scheduled_at__gt=timezone.now()) | Q(scheduled_at__date__gt=ended_on)
    )


@dataclass(frozen=True)
class Ended:
    cancelled: int
    revoked: int


def end_episode(
    episode: Episode, *, reason: str, ended_on: date, learned_together: str = ""
) -> Ended:
    """End the episode (call inside a transaction): cancel what is still booked, revoke its links."""
    now = timezone.now()
    remaining = remaining_appointments(episode, ended_on)
    ids = list(remaining.values_list("pk", flat=True))
    revoked = CheckinLink.objects.filter(appointment_id__in=ids, revoked_at__isnull=True).update(
        revoked_at=now
    )
    cancelled = Appointment.objects.filter(pk__in=ids).update(
        attendance=Attendance.CANCELLED, attendance_recorded_at=now
    )
    episode.status = EpisodeStatus.ENDED
    episode.ended_on = ended_on
    episode.end_reason = reason
    episode.learned_together = learned_together
    episode.save(
        update_fields=["status", "ended_on", "end_reason", "learned_together", "updated_at"]
    )
    log_event(
        "care.episode.ended",
        obj=episode,
        data={"reason": reason, "cancelled_appointments": cancelled, "revoked_links": revoked},
    )
    return Ended(cancelled, revoked)


def mark_final(appointment: Appointment) -> None:
    """The client's check-in for this session also asks what they will take with them."""
    Appointment.objects.filter(episode=appointment.episode_id, is_final=True).exclude(
        pk=appointment.pk
    ).update(is_final=False)
    appointment.is_final = True
    appointment.save(update_fields=["is_final"])
    log_event("care.appointment.marked_final", obj=appointment)


# --- termination summaries -------------------------------------------------------------------------


def _n(value: float | None) -> str:
    if value is None:
        return DASH
    return formats.number_format(value, 0 if value == int(value) else 1)


def _yes_no(value: bool | None) -> str:
    return _("not assessed") if value is None else _("yes") if value else _("no")


def _day(value: date | None) -> str:
    """A date as the active language writes it in full (the record is read by staff)."""
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def _attendance(episode: Episode) -> Counter[str]:
    return Counter(Appointment.objects.filter(episode=episode).values_list("attendance", flat=True))


def _measurements(episode: Episode) -> list[nhs.Measurement]:
    rows = Response.objects.filter(
        episode=episode, respondent=Respondent.CLIENT, instrument__in=charts.OUTCOMES
    ).values_list("instrument", "total", "appointment__scheduled_at", "submitted_at")
    return [
        nhs.Measurement(timezone.localdate(when or submitted), instrument, float(total))
        for instrument, total, when, submitted in rows
        if total is not None
    ]


def record_data(episode: Episode) -> dict[str, Any]:
    """Everything the record version of the termination summary prints (plain JSON for Typst)."""
    data = charts.load([episode.pk])[episode.pk]
    made = {c.key: c for c in charts.episode_charts(data, charts.clinic_models())}
    counts = _attendance(episode)
    attended = counts.get(Attendance.ATTENDED, 0)
    scores = [[_("Measure"), _("Start"), _("End"), _("Change"), _("Reliable change"), _("Outcome")]]
    for instrument in charts.OUTCOMES:
        points = data.outcomes.get(instrument, ())
        if not points:
            continue
        rules = get_instrument(instrument).rules
        (n0, first), (n1, last) = points[0], points[-1]
        threshold = rules.reliable_change.threshold if rules.reliable_change else None
        outcome, reliable = "", ""
        if threshold and len(points) > 1:
            change = threshold_change(first, last, threshold, higher_is_better=False)
            reliable = _("%(yes_no)s (threshold %(threshold)s)") % {
                "yes_no": _yes_no(change.reliable),
                "threshold": _n(threshold),
            }
            outcome = str(CHANGE_OUTCOMES.get(change.outcome, change.outcome))
        scores.append(
            [
                charts.words().get(instrument, instrument)
                + f" ({progress.SHORT_NAMES[instrument]})",
                _("%(score)s (session %(session)s)") % {"score": _n(first), "session": n0},
                _("%(score)s (session %(session)s)") % {"score": _n(last), "session": n1},
                _signed(last - first) if len(points) > 1 else DASH,
                reliable or DASH,
                outcome or DASH,
            ]
        )
    result = nhs.episode_outcome(_measurements(episode), attended, episode.client.code)
    nhs_rows = [
        ["NHS Talking Therapies", ""],
        [_("Finished a course (2+ attended)"), _yes_no(result.finished_course)],
        [_("Case at start"), _yes_no(result.case_at_start)],
        [_("Case at end"), _yes_no(result.case_at_end)],
        [_("Recovery"), _yes_no(result.recovery)],
        [_("Reliable improvement"), _yes_no(result.reliable_improvement)],
        [_("Reliable deterioration"), _yes_no(result.reliable_deterioration)],
        [_("Reliable recovery"), _yes_no(result.reliable_recovery)],
    ]
    goals = progress.goal_progress(
        list(Goal.objects.filter(episode=episode).order_by("number")),
        data,
        progress.copy_for(translation.get_language() or "en"),
    )
    goal_rows = [[_("Goal"), _("First rating"), _("Last rating")]] + [
        [f"{g.number}. {g.description}", _n(g.first), _n(g.last)] for g in goals
    ]
    ruptures = [[_("Session"), _("Alert"), _("Severity"), _("Status")]] + [
        [
            str(session or DASH),
            str(AlertKind(kind).label),
            str(AlertSeverity(severity).label),
            str(AlertStatus(status).label),
        ]
        for session, kind, severity, status in Alert.objects.filter(episode=episode)
        .order_by("created_at")
        .values_list("session_number", "kind", "severity", "status")
    ]
    repaired = sum(1 for row in ruptures[1:] if row[3] == str(AlertStatus.REPAIRED.label))
    sessions = [
        [_("Attended"), str(attended)],
        [_("Late cancellations"), str(counts.get(Attendance.LATE_CANCEL, 0))],
        [_("No-shows"), str(counts.get(Attendance.NO_SHOW, 0))],
        [_("Cancelled with notice"), str(counts.get(Attendance.CANCELLED, 0))],
        [_("Still scheduled"), str(counts.get(Attendance.SCHEDULED, 0))],
    ]
    return {
        "lang": translation.get_language() or "en",
        "t": {
            "scores": _("Scores: start and end"),
            "goals": _("Goals (Goal-Based Outcomes, 0 to 10)"),
            "sessions": _("Sessions"),
            "alerts": _("Ruptures, repairs and other alerts"),
            "learned": _("What we learned together"),
            "ending_words": _("In their own words, as they finished"),
        },
        "title": _("Ending summary for the record · %(code)s") % {"code": episode.client.code},
        "subtitle": _period(episode)
        + " · "
        + _("Therapist: %(name)s") % {"name": episode.therapist.display_name}
        + (f" · {EndReason(episode.end_reason).label}" if episode.end_reason else ""),
        "footer": _("%(code)s · for the clinical record · confidential")
        % {"code": episode.client.code},
        "scores": scores,
        "nhs": nhs_rows,
        "nhs_note": _nhs_note(result)
        + " "
        + _(
            "Reliable deterioration thresholds and the improvement/deterioration combination rule "
            "are UNVERIFIED defaults (alliance/measures/nhs.py)."
        ),
        "goals": goal_rows if goals else [],
        "sessions": sessions,
        "alerts": ruptures if len(ruptures) > 1 else [],
        "alerts_summary": ngettext(
            "%(count)d alert raised, %(repaired)d marked repaired.",
            "%(count)d alerts raised, %(repaired)d marked repaired.",
            len(ruptures) - 1,
        )
        % {"count": len(ruptures) - 1, "repaired": repaired},
        "charts": [
            {"title": made[k].title, "svg": str(made[k].svg)}
            for k in ("phq9", "gad7", "relationship", "goals")
            if k in made
        ],
        "learned_together": episode.learned_together,
        # The ending question (alliance/measures/instruments/ending.json), captioned for staff.
        "ending_words": [
            {"question": a.question, "text": a.text} for a in words.ending_answers([episode.pk])
        ],
    }


def _nhs_note(result: nhs.EpisodeOutcome) -> str:
    """Why the NHS outcome is incomplete, in the reader's language (alliance.measures.nhs writes the
    same reasons in English for its command-line and JSON users)."""
    if not result.finished_course:
        return _("not a finished course (attended %(attended)d, needs %(needed)d)") % {
            "attended": result.attended,
            "needed": nhs.MIN_ATTENDED_FOR_FINISHED,
        }
    if result.phq9_last is None:
        return ngettext(
            "%(count)d paired PHQ-9 + GAD-7 date; two are needed to judge change",
            "%(count)d paired PHQ-9 + GAD-7 dates; two are needed to judge change",
            result.paired_dates,
        ) % {"count": result.paired_dates}
    if not result.case_at_start:
        return _("not a case at the first paired date: recovery does not apply")
    return ""


def _signed(value: float) -> str:
    """A change with its sign, in the active language's numbers (+3, -2,5 in Spanish)."""
    text = _n(abs(value))
    return f"+{text}" if value > 0 else f"-{text}" if value < 0 else text


def _period(episode: Episode) -> str:
    end = _day(episode.ended_on) if episode.ended_on else _("ongoing")
    return f"{_day(episode.started_on)} {DASH} {end}"


# The client's version speaks to the client in their language: "client pages" wording, reviewed with
# the rest of what clients read (alliance.checkin.copy).
CLIENT_COPY: dict[str, Promise] = {
    "title": pgettext_lazy("client pages", "Your therapy: a summary"),
    "intro": pgettext_lazy(
        "client pages", "A summary of the work we did together, in your own answers."
    ),
    "from": pgettext_lazy("client pages", "From {start} to {end}"),
    "ongoing": pgettext_lazy("client pages", "now"),
    "sessions": pgettext_lazy("client pages", "We met {n} times."),
    "learned": pgettext_lazy("client pages", "What we learned together"),
    "take_with_you": pgettext_lazy("client pages", "What you said you will take with you"),
    "nothing_written": pgettext_lazy("client pages", "(To talk about in our last session.)"),
    "footer": pgettext_lazy("client pages", "Your summary · private"),
}


def _client_day(value: date) -> str:
    return formats.date_format(value, str(safety_plan.WORDS["date_format"]))


def client_data(episode: Episode) -> dict[str, Any]:
    """The client's version: their own words and numbers only, in their language."""
    lang = supported(episode.client.preferred_language)
    view = progress.for_client(episode, lang)
    with translation.override(lang):
        copy = {key: str(text) for key, text in CLIENT_COPY.items()}
        start = _client_day(episode.started_on)
        end = _client_day(episode.ended_on) if episode.ended_on else copy["ongoing"]
    attended = _attendance(episode).get(Attendance.ATTENDED, 0)
    return {
        "lang": lang,
        "title": copy["title"],
        "subtitle": copy["from"].format(start=start, end=end),
        "footer": copy["footer"],
        "intro": copy["intro"],
        "sessions": copy["sessions"].format(n=attended),
        "sentences": view.sentences,
        "scores_heading": view.copy["scores_heading"],
        "goals_heading": view.copy["goals_heading"],
        "goals": [{"text": g.description, "sentence": g.sentence} for g in view.goals],
        "charts": [{"title": c.title, "svg": str(c.svg)} for c in view.charts],
        "learned_heading": copy["learned"],
        "learned_together": episode.learned_together or copy["nothing_written"],
        "take_heading": copy["take_with_you"],
        # Only their answer to "What will you take with you?": the other ending question is
        # addressed to the therapist.
        "take_with_you": next(
            (a.text for a in words.ending_answers([episode.pk]) if a.link_id == "take"), ""
        ),
    }
