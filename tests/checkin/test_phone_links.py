"""Property tests of the tap-to-call filter (alliance.core.phones): whatever the text, the output is
well-formed, escaped HTML whose visible text is the input, every tel: target is digits only, and dates,
times, "24/7" and years never become phone links."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import example, given, settings
from hypothesis import strategies as st

from alliance.core.phones import find_numbers, link_contacts

REGIONS = ("GB", "IE", "US", "ES")


class _Reader(HTMLParser):
    """Collects the visible text and every tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag != "br":
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    assert not reader.open, f"unclosed {reader.open}"
    return reader


# Text that looks like crisis resources: words, digits in every grouping, punctuation, markup and
# quotes that must be escaped, newlines.
_pieces = st.one_of(
    st.text(alphabet="abc xyz.,;:()/-+<>&\"'\n0123456789", max_size=30),
    st.sampled_from(
        [
            "112",
            "999",
            "116 123",
            "+44 20 7946 0958",
            "020 7946 0958",
            "+1 (202) 555-0143",
            "https://help.example.org/0800123456",
            "help@example.org",
            "<script>alert(1)</script>",
            "&amp;",
            "24/7",
            "12/05/2024",
            "10:30",
            "\n\n",
        ]
    ),
)
texts = st.lists(_pieces, max_size=8).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(texts)
@example('<a href="tel:1">x</a> 999')
@example("call 999.\n\nthen 116 123")
def test_output_is_well_formed_escaped_html_with_the_same_visible_text(text: str) -> None:
    html = str(link_contacts(text, REGIONS))
    reader = _read(html)
    assert {tag for tag, _ in reader.tags} <= {"p", "br", "a"}
    # Nothing is added, lost or unescaped: the visible text is the input, line breaks aside (they
    # become <br> and <p>, and paragraphs are separated by a blank line in the source).
    assert "".join(reader.text).replace("\n", "") == text.replace("\n", "")
    for tag, attrs in reader.tags:
        if tag == "a":
            href = attrs.get("href") or ""
            assert re.fullmatch(r"tel:\+?\d{3,16}", href) or href.startswith(
                ("http://", "https://", "mailto:")
            ), href


_day = st.integers(1, 28).map(str)
_month = st.integers(1, 12).map(str)
_year = st.integers(1900, 2099).map(str)
_dates_and_times = st.one_of(
    st.tuples(_day, _month, _year).map("/".join),
    st.tuples(_year, _month.map(lambda m: m.zfill(2)), _day.map(lambda d: d.zfill(2))).map(
        "-".join
    ),
    st.tuples(_day, _month, _year).map(".".join),
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.tuples(st.integers(0, 23), st.integers(0, 23)).map(lambda t: f"{t[0]}:00-{t[1]}:00"),
    _year,
    st.tuples(_day, st.sampled_from(["January", "May", "diciembre"]), _year).map(" ".join),
    st.just("24/7"),
    st.integers(0, 10**6).map(lambda n: f"{n}%"),
    st.integers(0, 10**6).map(lambda n: f"£{n}.50"),
)
_around = st.sampled_from(["", " ", "Open ", "(", "on ", "until ", "hasta el "])
_after = st.sampled_from(["", " ", ".", ")", ", every day", " only."])


@settings(max_examples=400, deadline=None)
@given(_around, _dates_and_times, _after)
def test_dates_times_years_and_24_7_are_never_phone_numbers(
    before: str, value: str, after: str
) -> None:
    text = f"{before}{value}{after}"
    assert find_numbers(text, REGIONS) == [], text
    assert "tel:" not in link_contacts(text, REGIONS)


@given(st.sampled_from(["Call ", "(", "", "Samaritans: "]), st.sampled_from(["", ".", ")", " now"]))
def test_crisis_lines_are_found_whatever_surrounds_them(before: str, after: str) -> None:
    for number, href in (
        ("999", "999"),
        ("116 123", "116123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("020 7946 0958", "+442079460958"),
    ):
        found = find_numbers(f"{before}{number}{after}", REGIONS)
        assert [f.href for f in found] == [href], (before, number, after)


def test_a_number_inside_a_web_address_stays_part_of_the_address() -> None:
    html = str(link_contacts("See https://help.example.org/0800123456 or call 999", REGIONS))
    assert html.count("<a ") == 2
    assert '<a href="https://help.example.org/0800123456"' in html
    assert '<a class="tel" href="tel:999">999</a>' in html


def test_without_regions_nothing_is_linked() -> None:
    assert "tel:" not in link_contacts("Call 999 or +44 20 7946 0958", ())


def test_a_short_number_inside_a_longer_one_is_never_linked_on_its_own() -> None:
    # "910 000" is a valid short number somewhere, but here it is the start of a (fictional) landline:
    # a tap would dial another line than the one written. The written number stays plain text.
    for text in ("El centro: 910 000 000", "Call 116 123 456", "91 000 00 00"):
        assert find_numbers(text, REGIONS) == [], text
    # A crisis line followed by a short group of digits that is not part of it still links.
    assert [f.href for f in find_numbers("Samaritans 116 123 24 hours", REGIONS)] == ["116123"]
