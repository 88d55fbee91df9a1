"""Name banks and fake contact details for the simulated clinic.

Names are grouped by cultural background so that a first name is paired with a
surname from the same group ("Wei Chen", "Ngozi Okafor"), which reads as a real
caseload rather than a random mash-up. Every address and number is
unmistakably fake: clients get ``@example.com`` addresses (RFC 2606) and numbers
in the 555-01xx range reserved for fiction; staff get ``@demo.alliance.invalid``
addresses (RFC 2606 ``.invalid``).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from alliance.core.codes import CODE_ALPHABET, CODE_LENGTH

STAFF_DOMAIN = "demo.alliance.invalid"
CLIENT_DOMAIN = "example.com"


def _split(text: str) -> tuple[str, ...]:
    """Comma-separated names -> tuple (keeps the banks compact and easy to edit)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


# US area codes only dress up the number; the 555-01xx part is what makes it fictional.
_AREA_CODES = _split("212, 312, 415, 503, 617, 702, 713, 305, 206, 404")


@dataclass(frozen=True, slots=True)
class NameGroup:
    """First names and surnames that plausibly go together.

    Attributes:
        name: label of the group, for debugging only.
        weight: relative frequency among English-speaking clients and staff.
        first_names: given names.
        last_names: family names.
    """

    name: str
    weight: float
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


ENGLISH_GROUPS: tuple[NameGroup, ...] = (
    NameGroup(
        "anglo",
        0.34,
        _split(
            "Olivia, Emma, Charlotte, Amelia, Sophie, Hannah, Grace, Megan, Rachel, Laura, "
            "Katie, Emily, Jessica, Sarah, Abigail, Claire, Liam, Noah, Ethan, James, Ben, "
            "Daniel, Ryan, Tyler, Matthew, Jack, Owen, Samuel, Thomas, Nathan, Adam, Chris, "
            "Jordan, Alex, Taylor, Morgan, Casey, Riley"
        ),
        _split(
            "Smith, Johnson, Williams, Brown, Miller, Davis, Wilson, Anderson, Taylor, Moore, "
            "Martin, Thompson, White, Clark, Lewis, Walker, Young, Allen, Wright, Scott, "
            "Green, Baker, Adams, Nelson, Hill, Campbell, Mitchell, Carter, Turner, Parker, "
            "Evans, Edwards, Collins, Stewart, Morris, Reed, Cook, Bell, Cooper, Ward, Fisher, "
            "Hughes"
        ),
    ),
    NameGroup(
        "african-american",
        0.12,
        _split(
            "Jasmine, Aaliyah, Imani, Monique, Tiana, Kayla, Destiny, Brianna, Andre, Malik, "
            "Darnell, Terrence, Marcus, Jamal, Isaiah, Xavier, Jalen, Cedric"
        ),
        _split(
            "Washington, Jackson, Robinson, Harris, Brooks, Coleman, Jenkins, Freeman, Booker, "
            "Simmons, Banks, Mosley, Gaines, Dawson, Holloway"
        ),
    ),
    NameGroup(
        "irish",
        0.05,
        _split("Aoife, Siobhan, Niamh, Ciara, Sean, Conor, Declan, Eoin, Orla"),
        _split("O'Brien, Murphy, Kelly, Byrne, Walsh, Doyle, Gallagher, Quinn"),
    ),
    NameGroup(
        "south-asian",
        0.09,
        _split(
            "Priya, Anjali, Neha, Aisha, Sana, Divya, Ravi, Arjun, Vikram, Rahul, Imran, "
            "Sanjay, Nikhil, Meera"
        ),
        _split(
            "Patel, Shah, Singh, Kumar, Sharma, Gupta, Iyer, Reddy, Desai, Chaudhry, Khan, "
            "Mehta, Nair"
        ),
    ),
    NameGroup(
        "chinese",
        0.04,
        _split("Wei, Mei, Jun, Lin, Hao, Xiu, Yan, Daniel, Grace, Kevin, Michelle, Vivian"),
        _split("Chen, Wang, Liu, Zhang, Huang, Wu, Zhou, Lin, Xu"),
    ),
    NameGroup(
        "korean",
        0.03,
        _split("Min-jun, Ji-woo, Seo-yeon, Ji-ho, Eun-ji, Hyun-woo, David, Sarah, Esther"),
        _split("Kim, Park, Lee, Choi, Jung, Kang, Yoon"),
    ),
    NameGroup(
        "japanese",
        0.02,
        _split("Hiroshi, Yuki, Kenji, Haruka, Aiko, Takeshi, Emi, Ren"),
        _split("Tanaka, Yamamoto, Sato, Nakamura, Suzuki, Watanabe, Ito"),
    ),
    NameGroup(
        "vietnamese",
        0.03,
        _split("Linh, Minh, Duc, Thao, Anh, Huong, Quang, Tuan"),
        _split("Nguyen, Tran, Le, Pham, Hoang, Vu, Dang"),
    ),
    NameGroup(
        "filipino",
        0.03,
        _split("Maria, Joseph, Angelica, Mark, Kristine, Paolo, Jasmine, Rommel"),
        _split("Santos, Reyes, Dela Cruz, Bautista, Mendoza, Villanueva, Ramos"),
    ),
    NameGroup(
        "west-african",
        0.06,
        _split("Ngozi, Chidi, Adaeze, Emeka, Kwame, Ama, Kofi, Abena, Tunde, Funmi"),
        _split("Okafor, Adeyemi, Mensah, Boateng, Okonkwo, Adebayo, Asante, Owusu"),
    ),
    NameGroup(
        "middle-eastern",
        0.07,
        _split("Layla, Nadia, Yasmin, Leila, Omar, Ahmed, Karim, Samir, Rami, Dina"),
        _split("Haddad, Hassan, Ali, Nasser, Khoury, Mansour, Saleh, Farah, Aziz"),
    ),
    NameGroup(
        "polish",
        0.02,
        _split("Agnieszka, Tomasz, Katarzyna, Piotr, Magda, Marek"),
        _split("Nowak, Wójcik, Kowalczyk, Mazur, Krawczyk, Kaczmarek"),
    ),
    NameGroup(
        "ukrainian",
        0.02,
        _split("Olena, Dmytro, Iryna, Andriy, Oksana, Taras"),
        _split("Kovalenko, Shevchenko, Bondarenko, Tkachenko, Kravchenko"),
    ),
    NameGroup(
        "italian",
        0.02,
        _split("Giulia, Marco, Francesca, Luca, Chiara, Matteo"),
        _split("Rossi, Russo, Bianchi, Romano, Colombo, Ricci"),
    ),
    NameGroup(
        "german-nordic",
        0.02,
        _split("Lukas, Anna, Stefan, Ingrid, Lars, Katrin, Erik"),
        _split("Müller, Schmidt, Weber, Larsen, Berg, Lindqvist"),
    ),
    NameGroup(
        "latino-english",
        0.06,
        _split("Isabella, Gabriel, Adriana, Marco, Vanessa, Adrian, Natalie, Eric"),
        _split("Garcia, Martinez, Lopez, Ramirez, Torres, Flores, Rivera, Morales"),
    ),
)

SPANISH_GROUP = NameGroup(
    "spanish",
    1.0,
    _split(
        "María, José, Carmen, Luis, Ana, Javier, Lucía, Diego, Sofía, Alejandro, "
        "Valentina, Carlos, Isabel, Miguel, Camila, Andrés, Gabriela, Fernando, Paula, "
        "Ricardo, Elena, Jorge, Daniela, Raúl, Rocío, Esteban, Marisol, Guadalupe, Alba, "
        "Mateo, Pilar, Héctor, Ximena, Rodrigo, Beatriz, Julián"
    ),
    _split(
        "García, Rodríguez, Martínez, Hernández, López, González, Pérez, Sánchez, Ramírez, "
        "Torres, Flores, Rivera, Gómez, Díaz, Morales, Ortiz, Castillo, Jiménez, Ruiz, "
        "Vargas, Romero, Mendoza, Herrera, Medina, Aguilar, Castro, Navarro, Delgado, "
        "Vega, Cruz, Ibáñez, Fuentes"
    ),
)


@dataclass(frozen=True, slots=True)
class Person:
    """A generated name with contact details.

    Attributes:
        first_name: given name (may contain accents).
        last_name: family name (Spanish speakers sometimes carry two surnames).
        email: unique, clearly fake address.
        phone: fictional number (555-01xx), or "" for staff.
    """

    first_name: str
    last_name: str
    email: str
    phone: str


def ascii_slug(text: str) -> str:
    """Lower-case ASCII form of a name for an email local part ("Ibáñez" -> "ibanez")."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = (ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch in "-"))
    return "".join(kept).lower()


def _pick_group(rng: random.Random, groups: tuple[NameGroup, ...]) -> NameGroup:
    return rng.choices(groups, weights=[g.weight for g in groups], k=1)[0]


class _EmailRegistry:
    """Hands out unique email addresses by numbering repeats (jo.smith2@...)."""

    def __init__(self, domain: str) -> None:
        self._domain = domain
        self._seen: dict[str, int] = {}

    def make(self, first: str, last: str) -> str:
        base = f"{ascii_slug(first)}.{ascii_slug(last.split()[0])}"
        count = self._seen.get(base, 0) + 1
        self._seen[base] = count
        local = base if count == 1 else f"{base}{count}"
        return f"{local}@{self._domain}"


def make_staff(rng: random.Random, count: int) -> list[Person]:
    """``count`` distinct staff names with unique ``@demo.alliance.invalid`` emails."""
    registry = _EmailRegistry(STAFF_DOMAIN)
    groups = (*ENGLISH_GROUPS, SPANISH_GROUP)
    people: list[Person] = []
    used: set[tuple[str, str]] = set()
    while len(people) < count:
        group = _pick_group(rng, groups)
        first, last = rng.choice(group.first_names), rng.choice(group.last_names)
        # Two colleagues with the same full name would confuse every screen of the demo.
        if (first, last) in used and len(used) < 2000:
            continue
        used.add((first, last))
        people.append(Person(first, last, registry.make(first, last), ""))
    return people


class ClientNamer:
    """Generates client names, languages, emails, phones and unique codes."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._emails = _EmailRegistry(CLIENT_DOMAIN)
        self._codes: set[str] = set()

    def person(self, spanish: bool) -> Person:
        """A new client; Spanish speakers get Spanish names, sometimes two surnames."""
        rng = self._rng
        group = SPANISH_GROUP if spanish else _pick_group(rng, ENGLISH_GROUPS)
        first = rng.choice(group.first_names)
        last = rng.choice(group.last_names)
        if spanish and rng.random() < 0.3:
            second = rng.choice(group.last_names)
            if second != last:
                last = f"{last} {second}"
        phone = f"+1 {rng.choice(_AREA_CODES)}-555-01{rng.randrange(100):02d}"
        return Person(first, last, self._emails.make(first, last), phone)

    def code(self) -> str:
        """A unique pseudonymous code such as ``C-7KQ3F``."""
        while True:
            body = "".join(self._rng.choices(CODE_ALPHABET, k=CODE_LENGTH))
            if body not in self._codes:
                self._codes.add(body)
                return f"C-{body}"
