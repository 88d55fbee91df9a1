"""Every word a client reads on the check-in pages, as gettext messages.

The text lives in the Python catalog (alliance/locale/<lang>/LC_MESSAGES/django.po) like every other
string of Alliance, so translators use one toolchain (docs/translating.md). Each message has the
context "client pages": the wording a client reads is reviewed by a clinician as a whole, and the
context keeps it apart from a staff page's translation of the same English words ("Start", "Goal").
Client pages follow the client's record language, not the browser's: `copy_for` resolves the messages
in the language it is given. Instrument wording (PHQ-9, GAD-7, check-in items) lives with the
instruments, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Final

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

LANGUAGES: Final = ("en", "es")
# Each language named in itself, as a language switch does: a reader looks for their own language's
# name, not its name in the language they cannot read.
LANGUAGE_NAMES: Final = {"en": "English", "es": "Español"}

COPY: Final[dict[str, Promise]] = {
    "page_title": pgettext_lazy("client pages", "Your check-in"),
    "intro": pgettext_lazy(
        "client pages",
        "This takes about a minute. Your answers go to your therapist and help the two of you see how things are going.",
    ),
    "before_heading": pgettext_lazy("client pages", "Before your session"),
    "before_text": pgettext_lazy("client pages", "A few questions about the last two weeks."),
    "after_heading": pgettext_lazy("client pages", "After your session"),
    "after_text": pgettext_lazy(
        "client pages",
        "How was the session for you? Your therapist wants to know what didn't work, not only what did.",
    ),
    "start": pgettext_lazy("client pages", "Start"),
    "done": pgettext_lazy("client pages", "Done, thank you"),
    "not_yet": pgettext_lazy("client pages", "Not done yet"),
    "next": pgettext_lazy("client pages", "Continue"),
    "submit": pgettext_lazy("client pages", "Send my answers"),
    "saving": pgettext_lazy("client pages", "Sending…"),
    "required_note": pgettext_lazy("client pages", "Questions marked * need an answer."),
    "optional": pgettext_lazy("client pages", "optional"),
    "error_summary": pgettext_lazy("client pages", "Please check the answers below:"),
    "error_required": pgettext_lazy("client pages", "Please choose an answer."),
    "error_range": pgettext_lazy("client pages", "Please choose one of the options shown."),
    "error_saving": pgettext_lazy(
        "client pages",
        "We couldn't save your answers just now. They are still here: please press the button again in a moment.",
    ),
    # Translators: A goal whose words could not be read just now (a database error): named by its number.
    "goal_unread": pgettext_lazy("client pages", "goal {number}"),
    "error_session": pgettext_lazy(
        "client pages",
        "Your page had been open for a while, so we need you to press the button once more. Your answers are still here.",
    ),
    "thanks_heading": pgettext_lazy("client pages", "Thank you"),
    "thanks_text": pgettext_lazy(
        "client pages", "Your answers are saved. You can close this page."
    ),
    "thanks_more": pgettext_lazy("client pages", "There is one more part you can fill in:"),
    "all_done": pgettext_lazy(
        "client pages", "You've answered everything for this session. Thank you."
    ),
    "back_to_start": pgettext_lazy("client pages", "Back to the start"),
    "expired_heading": pgettext_lazy("client pages", "This link is no longer active"),
    "expired_text": pgettext_lazy(
        "client pages",
        "Check-in links work for a limited time after each appointment. Your therapist can give you a new one.",
    ),
    "not_found_heading": pgettext_lazy("client pages", "This link doesn't work"),
    "not_found_text": pgettext_lazy(
        "client pages",
        "Please check that you copied the whole link, or ask your therapist for a new one.",
    ),
    "rate_limited_heading": pgettext_lazy("client pages", "Please wait a little"),
    "rate_limited_text": pgettext_lazy(
        "client pages", "There were too many attempts from this connection. Please try again later."
    ),
    "after_opens": pgettext_lazy(
        "client pages",
        "These questions are about your session, so they open as it ends: from {when}.",
    ),
    "after_not_open": pgettext_lazy(
        "client pages",
        "These questions open as your session ends, so we couldn't take your answers yet. They are still here: please send them after your session.",
    ),
    # Translators: A Django date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date), for when the after-session questions open. The weekday is there because a link is often opened the day before.
    "when_format": pgettext_lazy("client pages", "l j F \\a\\t H:i"),
    # Translators: A Django date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date).
    "date_format": pgettext_lazy("client pages", "j F Y"),
    "language": pgettext_lazy("client pages", "Language"),
    "support_heading": pgettext_lazy("client pages", "You don't have to face this alone"),
    "support_text": pgettext_lazy(
        "client pages",
        "Thank you for telling us. Your therapist will see your answer and will contact you. If you are in danger now, or might act on these thoughts, please get help straight away:",
    ),
    "support_continue": pgettext_lazy("client pages", "Continue with the questions"),
    "support_inline": pgettext_lazy(
        "client pages",
        "If you are having thoughts of harming yourself, help is available right now:",
    ),
    "plan_heading": pgettext_lazy("client pages", "Your safety plan"),
    "plan_intro": pgettext_lazy(
        "client pages",
        "The plan you wrote with your therapist. Start at the top and go down the list until you feel safer.",
    ),
    "plan_updated": pgettext_lazy("client pages", "Last updated"),
    "crisis_link": pgettext_lazy("client pages", "Need help now? Crisis lines"),
    "speak_up_heading": pgettext_lazy("client pages", "Something not right?"),
    "speak_up_text": pgettext_lazy(
        "client pages",
        "If something about your therapy or your therapist worries you, you can tell the clinic. Your therapist will not see this message: it goes to their supervisor and the clinic's management.",
    ),
    "speak_up_link": pgettext_lazy("client pages", "Raise a concern with the clinic"),
    "pause_text": pgettext_lazy(
        "client pages", "You can pause or end therapy at any time. That is always your choice."
    ),
    "concern_heading": pgettext_lazy("client pages", "Raise a concern with the clinic"),
    "concern_intro": pgettext_lazy(
        "client pages",
        "This message goes to the clinical supervisor and the clinic's management, not to your therapist. You don't need to give a reason for feeling uncomfortable.",
    ),
    "concern_label": pgettext_lazy("client pages", "What would you like the clinic to know?"),
    "concern_unsafe": pgettext_lazy("client pages", "I feel unsafe with my therapist"),
    "concern_contact": pgettext_lazy("client pages", "I would like the clinic to contact me"),
    "concern_contact_label": pgettext_lazy(
        "client pages", "How should we contact you? (phone or email)"
    ),
    "concern_send": pgettext_lazy("client pages", "Send to the clinic"),
    "concern_required": pgettext_lazy(
        "client pages", "Please write a few words, so the clinic knows what to look into."
    ),
    "concern_thanks_heading": pgettext_lazy("client pages", "Your message has reached the clinic"),
    "concern_thanks_text": pgettext_lazy(
        "client pages", "Thank you for telling us. Someone other than your therapist will read it."
    ),
    "scale_low": pgettext_lazy("client pages", "Not at all"),
    "scale_high": pgettext_lazy("client pages", "Completely"),
    "scale_hint": pgettext_lazy("client pages", "0 is the lowest, 10 the highest."),
    "goal_prefix": pgettext_lazy("client pages", "Your goal:"),
}

# Used when the clinic has not written its own (ClinicSettings.crisis_resources_*).
DEFAULT_CRISIS_RESOURCES: Final = pgettext_lazy(
    "client pages",
    "If you are in immediate danger, call your local emergency number now (112 in the EU, 999 in the UK, 911 in the US and Canada) or go to the nearest emergency department.\n\nYou can also call or text a crisis line, day or night: 988 in the US, Samaritans on 116 123 in the UK and Ireland, or your country's crisis line.\n\nYou can also call the clinic during opening hours.",
)


def supported(lang: str) -> str:
    """The language itself when the client pages speak it, otherwise English."""
    return lang if lang in LANGUAGES else "en"


def copy_for(lang: str) -> Mapping[str, str]:
    """Every key of COPY in `lang`, as plain strings for the templates (`t.page_title`)."""
    return _copy_in(supported(lang))


@cache
def _copy_in(lang: str) -> Mapping[str, str]:
    # Resolved once per language and process, read-only: every check-in page asks for it up to three
    # times, and resolving its ~60 lazy messages each time cost more than the rest of the landing
    # page (issue 10, point 6). Catalogs do not change while the process runs.
    with translation.override(lang):
        return MappingProxyType({key: str(text) for key, text in COPY.items()})


def default_crisis_resources(lang: str) -> str:
    with translation.override(supported(lang)):
        return str(DEFAULT_CRISIS_RESOURCES)
