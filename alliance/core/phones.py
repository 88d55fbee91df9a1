"""Phone numbers in free text become tap-to-call links, without ever trusting the text.

Used for the clinic's crisis resources (written by an administrator) and the "professionals and crisis
lines" section of a client's safety plan (written in session): a client in crisis should be one tap from
a call, not copying digits from a paragraph.

Safety first: the text is cut into pieces and every piece is escaped on its own; only the `tel:` target
is built by us, from digits and a leading "+" that the phonenumbers library produced (checked again
before use). Web addresses and email addresses keep Django's `urlize` behaviour.

What counts as a phone number:
- a full number that Google's libphonenumber (the `phonenumbers` package) finds and considers valid,
  in international form (+44 20 7946 0958) or in the national form of the clinic's first region;
- a short number (3 to 6 digits, "116 123" too) that is an emergency number or a valid short number in
  one of the clinic's regions (settings.ALLIANCE_PHONE_REGIONS): 112, 999, 911, 988, 024, 116 123.
Never a number glued to a slash, colon, dot, hyphen or letter (dates, times, "24/7", prices, versions),
and never a four-digit year (1900-2099), which some regions also use as short codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.utils.html import escape, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from phonenumbers import shortnumberinfo

# Candidates for short numbers: 3-6 digits, or two groups of three ("116 123").
_SHORT_CANDIDATE = re.compile(r"\d{3} \d{3}|\d{3,6}")
_YEAR = re.compile(r"(19|20)\d\d")
_HREF = re.compile(r"\+?\d{3,16}")
# A number may follow a space, the start of the text or an opening bracket or quote ...
_OPEN = set("(\"'\u201c\u2018«¿¡[")  # also the curly opening quotes
# ... and may be followed by a closing bracket or quote, or by sentence punctuation that itself ends
# there (so "call 999." links, but "10.30", "12,50" and "10:30" do not).
_CLOSE = set(")\"'\u201d\u2019»]")  # also the curly closing quotes
_SENTENCE = set(".,;:!?")


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    href: str  # what goes after "tel:"


def _left_ok(text: str, start: int) -> bool:
    return start == 0 or text[start - 1].isspace() or text[start - 1] in _OPEN


def _right_ok(text: str, end: int) -> bool:
    if end >= len(text) or text[end].isspace() or text[end] in _CLOSE:
        return True
    if text[end] in _SENTENCE:
        following = text[end + 1] if end + 1 < len(text) else ""
        return following == "" or following.isspace() or following in _CLOSE
    return False


# A short number must stand alone: "910 000" inside "910 000 000" (a full number libphonenumber does
# not accept) or "116 123" inside "116 123 456" would dial a different line than the one written.
# A following group of one or two digits is allowed, as in "116 123 24 hours".
_DIGIT_GROUP_BEFORE = re.compile(r"\d[ \u00a0]")
_DIGIT_GROUP_AFTER = re.compile(r"[ \u00a0]\d{3}")


def _stands_alone(text: str, start: int, end: int) -> bool:
    before = start >= 2 and _DIGIT_GROUP_BEFORE.fullmatch(text, start - 2, start) is not None
    return not before and not _DIGIT_GROUP_AFTER.match(text, end)


def _is_short_number(digits: str, regions: Sequence[str]) -> bool:
    if len(digits) == 4 and _YEAR.fullmatch(digits):
        return False
    for region in regions:
        if shortnumberinfo.is_emergency_number(digits, region):
            return True
        try:
            parsed = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if shortnumberinfo.is_valid_short_number_for_region(parsed, region):
            return True
    return False


def find_numbers(text: str, regions: Sequence[str]) -> list[Found]:
    """The phone numbers in a piece of plain text, in order, never overlapping."""
    found: list[Found] = []
    if not regions:
        return found
    for match in phonenumbers.PhoneNumberMatcher(
        text, regions[0], leniency=phonenumbers.Leniency.VALID
    ):
        if _left_ok(text, match.start) and _right_ok(text, match.end):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found.append(Found(match.start, match.end, e164))
    for candidate in _SHORT_CANDIDATE.finditer(text):
        start, end = candidate.span()
        if any(f.start < end and start < f.end for f in found):
            continue
        if not (_left_ok(text, start) and _right_ok(text, end) and _stands_alone(text, start, end)):
            continue
        digits = candidate.group().replace(" ", "")
        if _is_short_number(digits, regions):
            found.append(Found(start, end, digits))
    return sorted(found, key=lambda f: f.start)


def _link_numbers(text: str, regions: Sequence[str]) -> Iterator[str]:
    position = 0
    for number in find_numbers(text, regions):
        if not _HREF.fullmatch(number.href):  # never anything but digits and a "+" in an href
            continue
        yield escape(text[position : number.start])
        yield f'<a class="tel" href="tel:{number.href}">{escape(text[number.start : number.end])}</a>'
        position = number.end
    yield escape(text[position:])


def _link_line(line: str, regions: Sequence[str]) -> str:
    """One line: web and email addresses as urlize links them, phone numbers in everything else."""
    out: list[str] = []
    plain: list[str] = []
    for token in re.split(r"(\s+)", line):
        linked = urlize(token, autoescape=True) if token and not token.isspace() else ""
        if linked and linked != escape(token):
            out.extend(_link_numbers("".join(plain), regions))
            plain = []
            out.append(linked)
        else:
            plain.append(token)
    out.extend(_link_numbers("".join(plain), regions))
    return "".join(out)


def link_contacts(text: str, regions: Sequence[str] | None = None) -> SafeString:
    """Like Django's `text|linebreaks|urlize`, with phone numbers as `tel:` links too."""
    chosen = settings.ALLIANCE_PHONE_REGIONS if regions is None else regions
    paragraphs = re.split(r"\n{2,}", normalize_newlines(str(text)))
    html = "\n\n".join(
        "<p>{}</p>".format("<br>".join(_link_line(line, chosen) for line in p.split("\n")))
        for p in paragraphs
    )
    return mark_safe(html)  # noqa: S308 - every piece above is escaped, or built by us from digits
