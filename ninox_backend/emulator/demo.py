"""The demo foundation's data, deterministic from a seed number.

Team ``demo`` ("Demo Foundation"), database ``grants`` ("Lodge Grants"), tables
``Lodges`` and ``Grants`` (the portal's default ``NINOX_SCHEMA``). Three fiscal years
(May 1 - April 30) of grants, the last one containing ``today``. Whatever the seed,
in that fiscal year: at least 10 active lodges have no grant, at least 5 active
lodges have used $3,000-$3,999 (so $1-$1,000 is left of the $4,000 cap), at least 3
are exactly at $4,000, at least 3 lodges are inactive, and no lodge is over $4,000
(non-cancelled grants) in any fiscal year.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .core import Emulator

CAP = Decimal(4000)
TEAM_ID, DATABASE_ID = "demo", "grants"

LODGE_FIELDS: list[dict[str, Any]] = [
    {"name": "Number", "type": "number"},
    {"name": "Name", "type": "text"},
    {"name": "District", "type": "text"},
    {"name": "City", "type": "text"},
    {"name": "Secretary", "type": "text"},
    {"name": "Secretary Email", "type": "email"},
    {"name": "Active", "type": "boolean"},
    {
        "name": "FY Total",
        "type": "formula",
        # The fiscal year runs May 1 - April 30; today() is the foundation's day.
        "formula": (
            "let t := today(); "
            "let s := if month(t) >= 5 then date(year(t), 5, 1) "
            "else date(year(t) - 1, 5, 1) end; "
            "sum(Grants['Grant Date' >= s and 'Grant Date' < date(year(s) + 1, 5, 1) "
            'and Status != "Cancelled"].Amount)'
        ),
    },
]
GRANT_FIELDS: list[dict[str, Any]] = [
    {"name": "Lodge", "type": "reference", "table": "Lodges"},
    {"name": "Reference", "type": "text"},
    {"name": "Amount", "type": "number"},
    {"name": "Grant Date", "type": "date"},
    {"name": "Charity", "type": "text"},
    {"name": "Purpose", "type": "text"},
    {"name": "Status", "type": "choice", "options": ["Approved", "Paid", "Cancelled"]},
    {"name": "Paid At", "type": "datetime"},
    {"name": "Payment", "type": "text"},
]

_DISTRICTS = (
    "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
    "Ninth", "Tenth", "Eleventh", "Twelfth",
)  # fmt: skip
_CITIES = (
    "Springfield", "Peoria", "Rockford", "Joliet", "Aurora", "Naperville", "Elgin",
    "Champaign", "Decatur", "Bloomington", "Galesburg", "Quincy", "Danville", "Kankakee",
    "Moline", "Ottawa", "Freeport", "Dixon", "Macomb", "Carbondale", "Effingham",
    "Mattoon", "Jacksonville", "Lincoln", "Pekin", "Sterling", "Belvidere", "Waukegan",
    "Evanston", "Oak Park", "Alton", "Belleville", "Marion", "Cairo", "Vandalia",
    "Charleston", "Paris", "Pontiac", "Streator", "Woodstock",
)  # fmt: skip
_LODGE_NAMES = (
    "Kilwinning", "St. John's", "Harmony", "Unity", "Corinthian", "Acacia", "Hiram",
    "Temple", "Mystic Tie", "Star in the East", "Composite", "Trinity", "Orient",
    "Fidelity", "Excelsior", "Olive Branch", "Evergreen", "Rising Sun", "Morning Star",
    "Cedar", "Ashlar", "Keystone", "Landmark", "Meridian", "Garden City", "Prairie",
    "Lincoln", "Washington", "Franklin", "Lafayette", "Perseverance", "Charity",
    "Friendship", "Anchor", "Sunrise", "Square and Compass", "Widow's Son", "Doric",
    "Ionic", "Tuscan", "Mount Moriah", "King Solomon's", "Cornerstone", "Union",
)  # fmt: skip
_FIRST = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas",
    "Charles", "Daniel", "Mark", "Paul", "Steven", "Andrew", "Kenneth", "George",
    "Edward", "Brian", "Ronald", "Timothy", "Jason", "Jeffrey", "Gary", "Eric",
)  # fmt: skip
_LAST = (
    "Anderson", "Baker", "Clark", "Davis", "Evans", "Fisher", "Garcia", "Harris",
    "Irving", "Johnson", "King", "Lewis", "Miller", "Nelson", "Owens", "Parker",
    "Quinn", "Roberts", "Smith", "Turner", "Underwood", "Walker", "Young", "Zimmerman",
)  # fmt: skip
_CHARITIES = (
    "Food Bank of {city}", "{city} Public Library", "Habitat for Humanity {city}",
    "{city} Free Clinic", "Boys & Girls Club of {city}", "{city} Volunteer Fire Dept.",
    "Shriners Children's", "{city} Senior Center", "Special Olympics Illinois",
    "{city} Animal Shelter", "Salvation Army {city}", "{city} High School Band",
)  # fmt: skip
_PURPOSES = (
    "Scholarship", "Holiday meals", "Winter coats for children", "Roof repair",
    "Reading program", "Medical equipment", "Disaster relief", "Youth sports uniforms",
    "Community garden", "Bikes for books", "Hearing aids", "School supplies",
)  # fmt: skip


@dataclass
class DemoInfo:
    """What :func:`seed_demo` built; ``categories`` maps a current-FY category to lodge ids."""

    team_id: str
    database_id: str
    lodges: int
    grants: int
    today: date
    fiscal_year_start: date
    categories: dict[str, list[int]] = field(default_factory=dict)


def fiscal_year_start(day: date) -> date:
    """May 1 of the fiscal year containing ``day``."""
    return date(day.year if day.month >= 5 else day.year - 1, 5, 1)


def local_today() -> date:
    return datetime.now(ZoneInfo("America/Chicago")).date()


def _split(total: int, parts: int, rng: random.Random, minimum: int) -> list[int]:
    """``parts`` integers ≥ ``minimum`` that add up to ``total``."""
    parts = max(1, min(parts, total // minimum))
    spare = total - parts * minimum
    cuts = sorted(rng.randint(0, spare) for _ in range(parts - 1))
    bounds = [0, *cuts, spare]
    return [bounds[i + 1] - bounds[i] + minimum for i in range(parts)]


def _categories(active: list[int], rng: random.Random) -> dict[int, str]:
    """The current fiscal year's category of each active lodge index."""
    order = active[:]
    rng.shuffle(order)
    n = len(order)
    sizes = [("none", max(10, n // 10)), ("near", max(5, n // 16)), ("cap", max(3, n // 30))]
    out: dict[int, str] = {}
    start = 0
    for name, size in sizes:
        for index in order[start : start + size]:
            out[index] = name
        start += size
    for index in order[start:]:
        out[index] = "normal"
    return out


def _target(category: str, current: bool, rng: random.Random) -> Decimal:
    """The non-cancelled total of one lodge in one fiscal year."""
    cents = rng.random() < 0.3
    if category == "none":
        return Decimal(0)
    if category == "cap":
        return CAP
    if category == "near":
        low, high = 3000, 3999
    elif current:
        low, high = 100, 2900
    else:
        roll = rng.random()
        if roll < 0.1:
            return Decimal(0)
        if roll < 0.2:
            return CAP
        low, high = 100, 3999
    if cents:
        return Decimal(rng.randint(low * 100, high * 100)) / 100
    return Decimal(rng.randint(low, high))


def seed_demo(
    emu: Emulator,
    seed: int = 42,
    lodges: int = 120,
    grants: int = 1500,
    today: date | None = None,
) -> DemoInfo:
    """Build the demo database in ``emu`` (one transaction per table, bulk inserts)."""
    rng = random.Random(seed)
    today = today or local_today()
    fy_start = fiscal_year_start(today)
    years = [date(fy_start.year - back, 5, 1) for back in (2, 1, 0)]

    emu.add_team(TEAM_ID, "Demo Foundation")
    emu.add_database(TEAM_ID, DATABASE_ID, "Lodge Grants")
    emu.add_table(TEAM_ID, DATABASE_ID, "Lodges", LODGE_FIELDS)
    emu.add_table(TEAM_ID, DATABASE_ID, "Grants", GRANT_FIELDS)

    numbers = sorted(rng.sample(range(1, max(1000, lodges * 3)), lodges))
    inactive = set(rng.sample(range(lodges), max(3, lodges // 25)))
    lodge_rows = []
    for index, number in enumerate(numbers):
        city = rng.choice(_CITIES)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        base = rng.choice(_LODGE_NAMES) if rng.random() < 0.8 else city
        lodge_rows.append(
            {
                "Number": number,
                "Name": f"{base} No. {number}",
                "District": f"{_DISTRICTS[index * len(_DISTRICTS) // lodges]} District",
                "City": city,
                "Secretary": f"{first} {last}",
                "Secretary Email": f"{first.lower()}.{last.lower()}{number}@example.org",
                "Active": index not in inactive,
            }
        )
    active = [i for i in range(lodges) if i not in inactive]
    current = _categories(active, rng)

    # One target total per (lodge, fiscal year); grants are then shared out.
    cells: list[tuple[int, date, Decimal]] = []
    for index in range(lodges):
        for year in years:
            is_current = year == fy_start
            if is_current:
                category = current.get(index, "normal" if rng.random() < 0.5 else "none")
            else:
                category = "normal"
            total = _target(category, is_current, rng)
            if total:
                cells.append((index, year, total))
    cancelled = max(len(years), grants // 20)
    budget = max(grants - cancelled, len(cells))
    counts = [1] * len(cells)
    for _ in range(budget - len(cells)):
        counts[rng.randrange(len(cells))] += 1

    grant_rows: list[dict[str, Any]] = []
    for (index, year, total), count in zip(cells, counts, strict=True):
        whole = total == total.to_integral_value() and rng.random() < 0.7
        unit = 1 if whole else 100
        amounts = _split(int(total * unit), count, rng, unit)
        for amount in amounts:
            grant_rows.append(_grant(rng, index, year, today, Decimal(amount) / unit, None))
    no_grant = {i for i, c in current.items() if c == "none"}
    candidates = [i for i in range(lodges) if i not in no_grant]
    for _ in range(cancelled):
        year = rng.choice(years)
        index = rng.choice(candidates)
        cancelled_amount = Decimal(rng.randint(50, 1500))
        grant_rows.append(_grant(rng, index, year, today, cancelled_amount, "Cancelled"))
    grant_rows.sort(key=lambda g: (g["Grant Date"], g["Lodge"]))
    per_year: dict[int, int] = {}
    for grant in grant_rows:
        if rng.random() < 0.03:
            continue  # entered by hand in Ninox: no portal reference
        year_number = int(grant["Grant Date"][:4])
        per_year[year_number] = per_year.get(year_number, 0) + 1
        grant["Reference"] = f"MG-{year_number}-{per_year[year_number]:05d}"

    store = emu.store
    db = store.database(TEAM_ID, DATABASE_ID)
    lodge_ids = store.bulk_insert(db, store.table(db, "Lodges"), lodge_rows)
    for grant in grant_rows:
        grant["Lodge"] = lodge_ids[grant["Lodge"]]
    store.bulk_insert(db, store.table(db, "Grants"), grant_rows)

    categories: dict[str, list[int]] = {"inactive": sorted(lodge_ids[i] for i in inactive)}
    for index, category in sorted(current.items()):
        categories.setdefault(category, []).append(lodge_ids[index])
    return DemoInfo(
        TEAM_ID, DATABASE_ID, len(lodge_rows), len(grant_rows), today, fy_start, categories
    )


def _grant(
    rng: random.Random, index: int, year: date, today: date, amount: Decimal, status: str | None
) -> dict[str, Any]:
    end = min(date(year.year + 1, 4, 30), today)
    day = year + timedelta(days=rng.randint(0, max(0, (end - year).days)))
    city = rng.choice(_CITIES)
    grant: dict[str, Any] = {
        "Lodge": index,
        "Amount": amount,
        "Grant Date": day.isoformat(),
        "Charity": rng.choice(_CHARITIES).format(city=city),
        "Purpose": rng.choice(_PURPOSES),
    }
    paid_day = day + timedelta(days=rng.randint(1, 21))
    if status is None:
        status = "Paid" if paid_day <= today and rng.random() < 0.9 else "Approved"
    grant["Status"] = status
    if status == "Paid":
        moment = datetime.combine(paid_day, time(rng.randint(14, 22), rng.randint(0, 59)))
        grant["Paid At"] = moment.isoformat(timespec="seconds")
        method = rng.choice(("Check", "ACH", "Stripe"))
        if method == "Check":
            grant["Payment"] = f"Check {rng.randint(1000, 9999)}"
        elif method == "ACH":
            grant["Payment"] = f"ACH {rng.randint(10**8, 10**9 - 1)}"
        else:
            grant["Payment"] = f"Stripe pi_{rng.getrandbits(64):016x}"
    return grant
