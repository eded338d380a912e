"""Deterministic demo data for the embedded mode, the README and the tests.

:func:`seed_demo` fills an *empty* database with structural units, subscribers with meters and
twelve months of readings, the standard tariffs and one demo account per role. The same ``seed``
and ``today`` give the same rows (only the salted password hash differs): everything random is
drawn from one ``random.Random(seed)``, nothing from the clock or the global generator.
The caller commits.

A few subscribers are chosen as showcases for the README (:class:`DemoSummary`): the demo
citizen's own subscriber (one meter, last reading 1 200 m³ at about 6 m³ a month), a subscriber
with two meters, one whose 5-digit register is about to pass 99 999, and one in another unit.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.models import Account, Unit
from engine.passwords import hash_password
from workflow.identifiers import SubscriberCodeFormat, make_subscriber_code
from workflow.models import Meter, Reading, Subscriber, Tariff
from workflow.tariff_table import STANDARD_TARIFFS

__all__ = [
    "DISTRICTS",
    "UNITS",
    "CENTRAL_UNIT",
    "DEMO_PASSWORD",
    "DEMO_ACCOUNTS",
    "DemoDataError",
    "DemoSummary",
    "ShowcaseMeter",
    "Showcase",
    "seed_demo",
    "demo_readme_table",
]

# district code (as stored in subscriber.district and matched by route_to_unit.dmn)
#   -> (Azerbaijani district name, city, unit code, tariff region)
DISTRICTS: dict[str, tuple[str, str, str, str]] = {
    "binagadi": ("Binəqədi", "Bakı", "U-BIN", "baku"),
    "garadagh": ("Qaradağ", "Bakı", "U-QRD", "baku"),
    "khatai": ("Xətai", "Bakı", "U-XTA", "baku"),
    "khazar": ("Xəzər", "Bakı", "U-XZR", "baku"),
    "pirallahi": ("Pirallahı", "Bakı", "U-XZR", "baku"),
    "narimanov": ("Nərimanov", "Bakı", "U-NRM", "baku"),
    "nasimi": ("Nəsimi", "Bakı", "U-NSM", "baku"),
    "nizami": ("Nizami", "Bakı", "U-NZM", "baku"),
    "sabunchu": ("Sabunçu", "Bakı", "U-SBN", "baku"),
    "sabail": ("Səbail", "Bakı", "U-SBL", "baku"),
    "surakhani": ("Suraxanı", "Bakı", "U-SRX", "baku"),
    "yasamal": ("Yasamal", "Bakı", "U-YSM", "baku"),
    "sumgayit": ("Sumqayıt", "Sumqayıt", "U-SMQ", "baku"),
    "ganja": ("Gəncə", "Gəncə", "U-GNC", "other"),
    "shaki": ("Şəki", "Şəki", "U-SKI", "other"),
    "lankaran": ("Lənkəran", "Lənkəran", "U-LNK", "other"),
}

CENTRAL_UNIT = "U-CTR"

# unit code -> (name, region). Region "baku" covers Baku and Sumgayit, "other" the rest.
UNITS: dict[str, tuple[str, str]] = {
    "U-BIN": ("Binəqədi rayon su təchizatı idarəsi", "baku"),
    "U-QRD": ("Qaradağ rayon su təchizatı idarəsi", "baku"),
    "U-XTA": ("Xətai rayon su təchizatı idarəsi", "baku"),
    "U-XZR": ("Xəzər və Pirallahı rayon su təchizatı idarəsi", "baku"),
    "U-NRM": ("Nərimanov rayon su təchizatı idarəsi", "baku"),
    "U-NSM": ("Nəsimi rayon su təchizatı idarəsi", "baku"),
    "U-NZM": ("Nizami rayon su təchizatı idarəsi", "baku"),
    "U-SBN": ("Sabunçu rayon su təchizatı idarəsi", "baku"),
    "U-SBL": ("Səbail rayon su təchizatı idarəsi", "baku"),
    "U-SRX": ("Suraxanı rayon su təchizatı idarəsi", "baku"),
    "U-YSM": ("Yasamal rayon su təchizatı idarəsi", "baku"),
    "U-SMQ": ("Sumqayıt şəhər su təchizatı idarəsi", "baku"),
    "U-GNC": ("Gəncə şəhər su təchizatı idarəsi", "other"),
    "U-SKI": ("Şəki şəhər su təchizatı idarəsi", "other"),
    "U-LNK": ("Lənkəran şəhər su təchizatı idarəsi", "other"),
    CENTRAL_UNIT: ("Mərkəzi dispetçer xidməti", "baku"),
}

# Share of subscribers per district, in per cent (Baku ≈ 72 %, Sumgayit 8 %, regions 20 %).
_DISTRICT_WEIGHTS = {
    "binagadi": 8, "garadagh": 4, "khatai": 9, "khazar": 5, "pirallahi": 1, "narimanov": 8,
    "nasimi": 9, "nizami": 7, "sabunchu": 6, "sabail": 6, "surakhani": 5, "yasamal": 9,
    "sumgayit": 8, "ganja": 7, "shaki": 4, "lankaran": 4,
}

# Streets per district. Streets in a settlement ("qəsəbəsi") are mostly private houses.
_STREETS: dict[str, tuple[str, ...]] = {
    "binagadi": ("Binəqədi şossesi", "Cavadxan küçəsi", "Mirələsgər Abbasov küçəsi",
                 "Əliağa Vahid küçəsi", "Xocahəsən qəsəbəsi, Sülh küçəsi",
                 "Rəsulzadə qəsəbəsi, Nəsrəddin Tusi küçəsi"),
    "garadagh": ("Lökbatan qəsəbəsi, Neftçilər küçəsi", "Sahil qəsəbəsi, Dənizkənarı küçə",
                 "Ələt qəsəbəsi, Mərkəzi küçə", "Qızıldaş qəsəbəsi, Şəhriyar küçəsi",
                 "Sahil qəsəbəsi, Gənclik küçəsi"),
    "khatai": ("Babək prospekti", "Xətai prospekti", "Nobel prospekti", "Həzi Aslanov küçəsi",
               "Cahangir Rüstəmov küçəsi", "Ağa Nemətulla küçəsi", "Yusif Səfərov küçəsi"),
    "khazar": ("Mərdəkan qəsəbəsi, Sergey Yesenin küçəsi", "Buzovna qəsəbəsi, Dənizkənarı küçə",
               "Şüvəlan qəsəbəsi, Xəzər küçəsi", "Türkan qəsəbəsi, Mərkəzi küçə",
               "Qala qəsəbəsi, Qədim Qala küçəsi"),
    "pirallahi": ("Pirallahı qəsəbəsi, Neftçilər küçəsi", "Pirallahı qəsəbəsi, Gürgan küçəsi"),
    "narimanov": ("Təbriz küçəsi", "Atatürk prospekti", "Əhməd Rəcəbli küçəsi",
                  "Əliyar Əliyev küçəsi", "Ziya Bünyadov prospekti", "Mirzə Ağa Əliyev küçəsi"),
    "nasimi": ("Füzuli küçəsi", "Səməd Vurğun küçəsi", "Rəşid Behbudov küçəsi",
               "Azadlıq prospekti", "Süleyman Rəhimov küçəsi", "Bakıxanov küçəsi",
               "Cəfər Cabbarlı küçəsi"),
    "nizami": ("Qara Qarayev prospekti", "Elşən Süleymanov küçəsi", "Məhəmməd Hadi küçəsi",
               "Mehdi Abbasov küçəsi", "Fətəli xan Xoyski prospekti", "Ramiz Qəmbərov küçəsi"),
    "sabunchu": ("Bakıxanov qəsəbəsi, Sülh küçəsi", "Maştağa qəsəbəsi, Mərkəzi küçə",
                 "Sabunçu qəsəbəsi, Əbdürrəhim Haqverdiyev küçəsi",
                 "Zabrat qəsəbəsi, Neftçilər küçəsi", "Ramana qəsəbəsi, Qala küçəsi",
                 "Bakıxanov qəsəbəsi, Ağasəf Ağayev küçəsi"),
    "sabail": ("Neftçilər prospekti", "İstiqlaliyyət küçəsi", "Nizami küçəsi",
               "Üzeyir Hacıbəyov küçəsi", "Badamdar şossesi", "Bayıl qəsəbəsi, Şıxov küçəsi",
               "Kiçik Qala küçəsi"),
    "surakhani": ("Hövsan qəsəbəsi, Hövsan küçəsi", "Qaraçuxur qəsəbəsi, Mərkəzi küçə",
                  "Əmircan qəsəbəsi, Şamil Kamilov küçəsi", "Yeni Suraxanı qəsəbəsi, Bakı küçəsi",
                  "Hövsan qəsəbəsi, Dədə Qorqud küçəsi"),
    "yasamal": ("Hüseyn Cavid prospekti", "İnşaatçılar prospekti", "Şərifzadə küçəsi",
                "Mətbuat prospekti", "Akademik Həsən Əliyev küçəsi", "Şərifzadə döngəsi",
                "Bülbül prospekti"),
    "sumgayit": ("Heydər Əliyev prospekti", "Sülh küçəsi", "Nizami küçəsi",
                 "Cəlil Məmmədquluzadə küçəsi", "Səməd Vurğun küçəsi", "Üzeyir Hacıbəyov küçəsi"),
    "ganja": ("Atatürk prospekti", "Cavad xan küçəsi", "Şah İsmayıl Xətai prospekti",
              "Nizami Gəncəvi küçəsi", "Məhsəti Gəncəvi küçəsi", "Heydər Əliyev prospekti"),
    "shaki": ("Mirzə Fətəli Axundzadə prospekti", "Rəşid bəy Əfəndiyev küçəsi",
              "Şəhriyar küçəsi", "Yuxarı Baş küçəsi", "Nizami küçəsi"),
    "lankaran": ("Həzi Aslanov küçəsi", "Mir Mövsüm Ağa küçəsi", "Dədə Qorqud küçəsi",
                 "Nizami küçəsi", "Xan Bağı küçəsi"),
}

_MALE_NAMES = (
    "Əli", "Elvin", "Rəşad", "Orxan", "Tural", "Kamran", "Elçin", "Vüqar", "Rauf", "Səbuhi",
    "Fərid", "Nicat", "Ramil", "Anar", "Şahin", "Ülvi", "Cavid", "Emin", "İlkin", "Həsən",
    "Hüseyn", "Məmməd", "Rövşən", "Zaur", "Elnur", "Fuad", "Tofiq", "Vaqif", "Yaşar", "Əhməd",
    "Şamil", "Ümid", "Ceyhun", "Rüfət", "Səməd", "Ömər", "Çingiz", "Əkbər", "Müşfiq", "Nurlan",
)
_FEMALE_NAMES = (
    "Aygün", "Günel", "Leyla", "Nərmin", "Sevinc", "Aytən", "Ülviyyə", "Şəbnəm", "Könül", "Xədicə",
    "Zəhra", "Nigar", "Gülnar", "Aysel", "Səbinə", "Lalə", "Fidan", "Türkan", "Arzu", "Məleykə",
    "Əminə", "Röya", "Ülkər", "Şəlalə", "Mehriban", "Nailə", "Elnarə", "Gülşən", "Səadət", "Çiçək",
    "İlahə", "Şəfəq", "Ömürnisə", "Gülnarə", "Əsmər",
)
# Surnames ending in -ov/-yev take "a" for women; -zadə, -li/-lı/-lu/-lü do not change.
_SURNAMES = (
    "Məmmədov", "Əliyev", "Həsənov", "Hüseynov", "Quliyev", "Abbasov", "İsmayılov", "Cəfərov",
    "Rəhimov", "Mustafayev", "Babayev", "Nəsirov", "Süleymanov", "Vəliyev", "Əhmədov", "Qasımov",
    "Kərimov", "İbrahimov", "Bağırov", "Səfərov", "Şükürov", "Əsədov", "Rzayev", "Nağıyev",
    "Hacıyev", "Musayev", "Orucov", "Qurbanov", "Ələkbərov", "Şirinov", "Zeynalov", "Cavadov",
    "Sadıqov", "Ağayev", "Novruzov", "Mirzəyev", "Əzizov", "Göyüşov", "Ömərov", "Çələbiyev",
    "Əlizadə", "Hüseynzadə", "Rüstəmli", "Şükürlü", "Ağalarlı", "Məlikzadə", "Qaralı",
)

_FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
_TRANSLIT = str.maketrans({
    "ə": "e", "Ə": "e", "ş": "sh", "Ş": "sh", "ç": "ch", "Ç": "ch", "ğ": "g", "ı": "i",
    "İ": "i", "ö": "o", "Ö": "o", "ü": "u", "Ü": "u", "x": "kh", "X": "kh", "q": "g", "Q": "g",
})

DEMO_PASSWORD = "demo"
# username -> (role, unit code, display name); the citizens' names come from their subscribers.
DEMO_ACCOUNTS: dict[str, tuple[str, str | None, str]] = {
    "demo-citizen": ("citizen", None, ""),
    "demo-citizen2": ("citizen", None, ""),
    "demo-operator": ("operator", "U-YSM", "Leyla Həsənova"),
    "demo-operator2": ("operator", "U-NSM", "Rauf Quliyev"),
    "demo-unithead": ("unit_head", "U-YSM", "Kamran Əliyev"),
    "demo-inspector": ("inspector", "U-YSM", "Tural Məmmədov"),
    "demo-analyst": ("analyst", None, "Nərmin Cəfərova"),
    "demo-admin": ("admin", None, "Şahin Rzayev"),
}

MIN_SUBSCRIBERS = 40  # every district plus the showcases; the default is 1 200
DAYS_PER_MONTH = 30.44
_OWN_LAST_VALUE = 1200
_OWN_MONTHLY = 6.0
_ROLLOVER_LAST_VALUE = 99_994
_ROLLOVER_MONTHLY = 12.0


class DemoDataError(RuntimeError):
    """The database is not empty, or the demo data cannot be built as asked."""


@dataclass(frozen=True)
class ShowcaseMeter:
    serial: str
    seal: str
    register_digits: int
    last_value: int
    last_read_on: date
    monthly_m3: float
    next_value: int  # a plausible reading on ``today`` (wrapped past 0 for the rollover meter)

    @property
    def wraps(self) -> bool:
        """True when the next reading has passed 0 (the register rolled over)."""
        return self.next_value < self.last_value

    @property
    def next_display(self) -> str:
        """The next reading to type; zero-padded as the register shows it after a rollover."""
        return f"{self.next_value:0{self.register_digits}d}" if self.wraps else str(self.next_value)


@dataclass(frozen=True)
class Showcase:
    key: str  # own, two_meter, rollover, other_unit
    code: str
    full_name: str
    fin: str
    district: str
    unit_code: str
    meters: tuple[ShowcaseMeter, ...]

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(m.serial for m in self.meters)


@dataclass(frozen=True)
class DemoSummary:
    today: date
    seed: int
    units: int
    subscribers: int
    meters: int
    readings: int
    tariffs: int
    accounts: int
    own_code: str
    two_meter_code: str
    rollover_code: str
    other_unit_code: str
    own_serial: str
    two_meter_serials: tuple[str, str]
    rollover_serial: str
    other_unit_serials: tuple[str, ...]
    demo_citizen_fin: str
    demo_citizen2_fin: str
    showcases: dict[str, Showcase] = field(default_factory=dict)
    accounts_table: tuple[tuple[str, str, str | None], ...] = ()  # (username, role, unit code)
    password: str = DEMO_PASSWORD


# ---------------------------------------------------------------------------------------------
# Planning: everything random happens here, in one fixed order
# ---------------------------------------------------------------------------------------------

@dataclass
class _MeterPlan:
    serial: str
    seal: str
    register_digits: int
    installed_on: date
    monthly_m3: float
    kind: str = "normal"  # normal, near_max, wrapped, own, rollover
    read_day: int = 20
    citizen_share: float = 0.05
    estimate_share: float = 0.0
    clean: bool = False  # showcase: routine reads on the 20th only
    readings: list[tuple[date, int, str]] = field(default_factory=list)


@dataclass
class _SubscriberPlan:
    row: dict
    meters: list[_MeterPlan] = field(default_factory=list)


def _add_months(year: int, month: int, k: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + k
    return idx // 12, idx % 12 + 1


def _translit(text: str) -> str:
    return "".join(ch for ch in text.translate(_TRANSLIT).lower() if ch.isascii() and ch.isalnum())


def _person(rng: random.Random) -> dict:
    female = rng.random() < 0.5
    first = rng.choice(_FEMALE_NAMES if female else _MALE_NAMES)
    surname = rng.choice(_SURNAMES)
    if female and surname.endswith(("ov", "yev", "ev")):
        surname += "a"
    father = rng.choice(_MALE_NAMES)
    return {
        "first_name": first,
        "last_name": surname,
        "patronymic": f"{father} {'qızı' if female else 'oğlu'}",
    }


def _address(rng: random.Random, district: str) -> dict:
    street = rng.choice(_STREETS[district])
    settlement = "qəsəbəsi" in street
    house = str(rng.randint(1, 60 if settlement else 180))
    roll = rng.random()
    if roll < 0.08:
        house += rng.choice(("A", "B", "C"))
    elif roll < 0.12:
        house += f"/{rng.randint(1, 5)}"
    has_flat = rng.random() < (0.25 if settlement else 0.9)
    return {
        "city": DISTRICTS[district][1],
        "street": street,
        "house": house,
        "flat": str(rng.randint(1, 160)) if has_flat else None,
    }


def _unique(rng: random.Random, taken: set[str], make) -> str:
    while True:
        value = make(rng)
        if value not in taken:
            taken.add(value)
            return value


def _fin(rng: random.Random) -> str:
    return "".join(rng.choice(_FIN_ALPHABET) for _ in range(7))


def _phone(rng: random.Random) -> str:
    prefix = rng.choices(("50", "51", "55", "70", "77"), weights=(6, 2, 3, 2, 1))[0]
    return f"+994{prefix}{rng.randint(0, 9_999_999):07d}"


def _plan(rng: random.Random, n: int, today: date) -> tuple[list[_SubscriberPlan], dict[str, int]]:
    """Subscribers with their meters (no readings yet) and the indices of the showcases."""
    districts = list(_DISTRICT_WEIGHTS)
    chosen = rng.choices(districts, weights=[_DISTRICT_WEIGHTS[d] for d in districts], k=n)
    # Every district at least once, and three Yasamal subscribers for the showcases.
    forced = districts + ["yasamal", "yasamal"]
    for pos, district in zip(rng.sample(range(n), len(forced)), forced):
        chosen[pos] = district

    fmt = SubscriberCodeFormat()
    body = fmt.length - 1
    numbers = rng.sample(range(10 ** (body - 1), 10 ** body), n)
    fins: set[str] = set()
    serials: set[str] = set()
    plans: list[_SubscriberPlan] = []
    for i, district in enumerate(chosen):
        _name, _city, unit_code, tariff_region = DISTRICTS[district]
        person = _person(rng)
        group = "non_population" if rng.random() < 0.03 else "population"
        persons = rng.choices((1, 2, 3, 4, 5, 6), weights=(10, 20, 25, 25, 12, 8))[0]
        email = None
        if rng.random() < 0.35:
            email = (f"{_translit(person['first_name'])}.{_translit(person['last_name'])}"
                     f"{rng.randint(1, 999)}@saygac.invalid")
        phone = _phone(rng) if rng.random() < 0.6 else None
        row = {
            "code": make_subscriber_code(numbers[i], fmt),
            "fin": _unique(rng, fins, _fin),
            **person,
            **_address(rng, district),
            "district": district,
            "unit_code": unit_code,
            "consumer_group": group,
            "tariff_region": tariff_region,
            "persons": persons if group == "population" else None,
            "email": email,
            "phone": phone,
        }
        plan = _SubscriberPlan(row)
        if group == "population":
            total = persons * rng.triangular(2.5, 8.0, 5.0)
            count = rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
        else:
            total = rng.uniform(10.0, 60.0)
            count = rng.choices((1, 2), weights=(85, 15))[0]
        shares = [rng.uniform(0.5, 1.5) for _ in range(count)]
        for share in shares:
            plan.meters.append(_new_meter(rng, serials, today, total * share / sum(shares)))
        plans.append(plan)

    # Showcases, chosen deterministically among the planned subscribers.
    yasamal = [i for i, d in enumerate(chosen) if d == "yasamal"]
    own, two, roll = rng.sample(yasamal, 3)
    other = rng.choice([i for i, d in enumerate(chosen) if d == "nasimi"])
    showcase = {"own": own, "two_meter": two, "rollover": roll, "other_unit": other}
    for key, idx in showcase.items():
        plan = plans[idx]
        plan.row["consumer_group"] = "population"
        persons = {"own": 1, "two_meter": 3, "rollover": 3, "other_unit": 2}[key]
        plan.row["persons"] = persons
        if plan.row["phone"] is None:
            plan.row["phone"] = _phone(rng)
        if key in ("own", "other_unit") and plan.row["email"] is None:
            first, last = _translit(plan.row["first_name"]), _translit(plan.row["last_name"])
            plan.row["email"] = f"{first}.{last}@saygac.invalid"
        count = 2 if key == "two_meter" else 1
        while len(plan.meters) > count:
            serials.discard(plan.meters.pop().serial)
        while len(plan.meters) < count:
            plan.meters.append(_new_meter(rng, serials, today, 0.0))
        for meter, monthly in zip(plan.meters, {
            "own": (_OWN_MONTHLY,), "two_meter": (9.0, 6.0),
            "rollover": (_ROLLOVER_MONTHLY,), "other_unit": (8.0,),
        }[key]):
            meter.monthly_m3 = monthly
            meter.register_digits = 5
            meter.clean = True
            meter.citizen_share = meter.estimate_share = 0.0
            meter.read_day = 20
        if key == "own":
            plan.meters[0].kind = "own"
        elif key == "rollover":
            plan.meters[0].kind = "rollover"

    # A couple more registers near their maximum, and one that passed 0 during the year.
    showcase_idx = set(showcase.values())
    candidates = [m for i, p in enumerate(plans) if i not in showcase_idx
                  for m in p.meters if m.register_digits == 5]
    for meter, kind in zip(rng.sample(candidates, 3), ("near_max", "near_max", "wrapped")):
        meter.kind = kind
        meter.monthly_m3 = max(meter.monthly_m3, 6.0)
    return plans, showcase


def _new_meter(rng: random.Random, serials: set[str], today: date, monthly: float) -> _MeterPlan:
    serial = _unique(rng, serials, lambda r: f"SN{r.randint(10_000_000, 99_999_999)}")
    habit = rng.random()
    if habit < 0.6:
        citizen, estimate = 0.05, 0.0
    elif habit < 0.9:
        citizen, estimate = 0.6, 0.0
    else:
        citizen, estimate = 0.15, 0.2
    return _MeterPlan(
        serial=serial,
        seal=f"PL{rng.randint(0, 999_999):06d}",
        register_digits=6 if rng.random() < 0.07 else 5,
        installed_on=today - timedelta(days=rng.randint(2 * 365, 8 * 365)),
        monthly_m3=monthly,
        read_day=20 + rng.randint(-3, 3),
        citizen_share=citizen,
        estimate_share=estimate,
    )


def _last_month(today: date) -> tuple[int, int]:
    """The month whose 20th is closest to 30 days before ``today``."""
    target = today - timedelta(days=30)
    months = [_add_months(target.year, target.month, k) for k in (-1, 0, 1)]
    return min(months, key=lambda ym: abs((date(ym[0], ym[1], 20) - target).days))


def _plan_readings(rng: random.Random, meter: _MeterPlan, today: date) -> None:
    """Twelve monthly readings, the last one 20-40 days before ``today``."""
    year, month = _last_month(today)
    dates = []
    for k in range(11, -1, -1):
        y, m = _add_months(year, month, -k)
        day = meter.read_day if meter.clean else meter.read_day + rng.randint(-1, 1)
        dates.append(date(y, m, day))
    dates[-1] = min(max(dates[-1], today - timedelta(days=40)), today - timedelta(days=20))

    steps = [0]
    for a, b in zip(dates, dates[1:]):
        expected = meter.monthly_m3 * (b - a).days / DAYS_PER_MONTH
        if meter.clean:
            steps.append(max(0, round(expected + rng.choice((-1, 0, 0, 1)))))
        else:
            season = 1 + 0.15 * math.cos(2 * math.pi * (b.month - 7) / 12)  # July +15 %
            steps.append(max(0, round(expected * season * rng.uniform(0.75, 1.25))))
    cumulative = []
    total = 0
    for s in steps:
        total += s
        cumulative.append(total)

    modulus = 10 ** meter.register_digits
    if meter.kind == "own":
        start = _OWN_LAST_VALUE - cumulative[-1]
    elif meter.kind == "rollover":
        start = _ROLLOVER_LAST_VALUE - cumulative[-1]
    elif meter.kind == "near_max":
        start = modulus - rng.randint(15, 60) - cumulative[-1]
    elif meter.kind == "wrapped":
        w = rng.randint(5, 9)  # the register passes 0 between reading w-1 and w
        if steps[w] == 0:
            steps[w] = 1
            cumulative[w:] = [c + 1 for c in cumulative[w:]]
        start = modulus - cumulative[w] + rng.randint(0, steps[w] - 1)
    else:
        months = (dates[0] - meter.installed_on).days / DAYS_PER_MONTH
        start = round(meter.monthly_m3 * months * rng.uniform(0.8, 1.1))

    readings = []
    for d, c in zip(dates, cumulative):
        roll = rng.random()
        if meter.clean or roll >= meter.estimate_share + meter.citizen_share:
            source = "utility"
        elif roll < meter.estimate_share:
            source = "estimate"
        else:
            source = "citizen"
        readings.append((d, (start + c) % modulus, source))
    meter.readings = readings


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _at_noon(day: date) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=timezone.utc)  # 12:00 in Baku


def _refuse_if_not_empty(session: Session) -> None:
    if session.scalar(select(Unit.id).limit(1)) is not None or \
            session.scalar(select(Subscriber.id).limit(1)) is not None:
        raise DemoDataError(
            "The database already holds units or subscribers; demo data is only loaded into an "
            "empty database. Use a new database file, or leave demo_data off."
        )


# Tariff decisions by the day they came into force, for the ``tariff.decision`` column.
_DECISION_NAMES = {
    date(2021, 2, 1): "Tarif Şurasının 30.01.2021 tarixli 5 nömrəli qərarı",
}


def _tariff_rows() -> list[dict]:
    return [
        {
            "consumer_group": rate.consumer_group,
            "region": rate.region,
            "water_price": rate.water_price,
            "sewer_price": rate.sewer_price,
            "vat_rate": rate.vat_rate,
            "valid_from": rate.valid_from,
            "valid_to": rate.valid_to,
            "blocks": [block.to_dict() for block in rate.blocks],
            "decision": _DECISION_NAMES.get(
                rate.valid_from, f"Tarif Şurasının qərarı ({rate.valid_from:%d.%m.%Y} tarixdən)"
            ),
        }
        for rate in STANDARD_TARIFFS
    ]


def _next_value(meter: _MeterPlan, today: date) -> int:
    last_day, last_value, _ = meter.readings[-1]
    used = round(meter.monthly_m3 * (today - last_day).days / DAYS_PER_MONTH)
    return (last_value + used) % 10 ** meter.register_digits


def seed_demo(session: Session, *, today: date, subscribers: int = 1200, seed: int = 2026) -> DemoSummary:
    """Fill an empty database with demo data; the caller commits. See the module docstring."""
    if subscribers < MIN_SUBSCRIBERS:
        raise DemoDataError(f"demo data needs at least {MIN_SUBSCRIBERS} subscribers")
    _refuse_if_not_empty(session)
    rng = random.Random(seed)
    plans, showcase = _plan(rng, subscribers, today)
    for plan in plans:
        for meter in plan.meters:
            _plan_readings(rng, meter, today)

    unit_ids: dict[str, int] = {}
    for code, (name, region) in UNITS.items():
        unit = Unit(code=code, name=name, region=region, head_email=f"head.{code.lower()}@saygac.invalid")
        session.add(unit)
        session.flush()
        unit_ids[code] = unit.id

    sub_rows = []
    for plan in plans:
        row = dict(plan.row)
        row["unit_id"] = unit_ids[row.pop("unit_code")]
        sub_rows.append(row)
    # One executemany, then the ids by unique key: far faster than RETURNING row by row. The
    # Core table insert keeps the ORM from splitting the batch where nullable columns are None.
    session.execute(insert(Subscriber.__table__), sub_rows)
    id_of_code = {code: id_ for code, id_ in session.execute(select(Subscriber.code, Subscriber.id))}
    sub_ids = [id_of_code[row["code"]] for row in sub_rows]

    meter_rows, meter_plans = [], []
    for sub_id, plan in zip(sub_ids, plans):
        for m in plan.meters:
            meter_rows.append({
                "subscriber_id": sub_id, "serial": m.serial, "seal": m.seal,
                "register_digits": m.register_digits, "installed_on": m.installed_on,
                "active": True,
            })
            meter_plans.append(m)
    session.execute(insert(Meter), meter_rows)
    id_of_serial = {serial: id_ for serial, id_ in session.execute(select(Meter.serial, Meter.id))}
    meter_ids = [id_of_serial[row["serial"]] for row in meter_rows]

    reading_rows = [
        {"meter_id": meter_id, "value": value, "read_on": day, "source": source,
         "application_id": None, "created_at": _at_noon(day)}
        for meter_id, m in zip(meter_ids, meter_plans)
        for day, value, source in m.readings
    ]
    session.execute(insert(Reading), reading_rows)

    tariff_rows = _tariff_rows()
    session.execute(insert(Tariff), tariff_rows)

    own_row = plans[showcase["own"]].row
    citizen2_row = plans[showcase["other_unit"]].row
    password_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow on purpose: hash once
    created = _at_noon(today)
    for username, (role, unit_code, display) in DEMO_ACCOUNTS.items():
        fin = email = None
        if username in ("demo-citizen", "demo-citizen2"):
            person = own_row if username == "demo-citizen" else citizen2_row
            fin, email = person["fin"], person["email"]
            display = " ".join(p for p in (person["last_name"], person["first_name"], person["patronymic"]) if p)
        else:
            email = f"{username}@saygac.invalid"
        session.add(Account(
            username=username, fin=fin, display_name=display, email=email, role=role,
            unit_id=unit_ids[unit_code] if unit_code else None, password_hash=password_hash,
            is_demo=True, active=True, failed_logins=0, created_at=created,
        ))
    session.flush()

    showcases = {}
    for key, idx in showcase.items():
        plan = plans[idx]
        row = plan.row
        showcases[key] = Showcase(
            key=key, code=row["code"],
            full_name=" ".join(p for p in (row["last_name"], row["first_name"], row["patronymic"]) if p),
            fin=row["fin"], district=row["district"], unit_code=DISTRICTS[row["district"]][2],
            meters=tuple(
                ShowcaseMeter(
                    serial=m.serial, seal=m.seal, register_digits=m.register_digits,
                    last_value=m.readings[-1][1], last_read_on=m.readings[-1][0],
                    monthly_m3=m.monthly_m3, next_value=_next_value(m, today),
                )
                for m in plan.meters
            ),
        )
    return DemoSummary(
        today=today, seed=seed, units=len(UNITS), subscribers=len(sub_rows),
        meters=len(meter_rows), readings=len(reading_rows), tariffs=len(tariff_rows),
        accounts=len(DEMO_ACCOUNTS),
        own_code=showcases["own"].code,
        two_meter_code=showcases["two_meter"].code,
        rollover_code=showcases["rollover"].code,
        other_unit_code=showcases["other_unit"].code,
        own_serial=showcases["own"].serials[0],
        two_meter_serials=showcases["two_meter"].serials,  # type: ignore[arg-type]
        rollover_serial=showcases["rollover"].serials[0],
        other_unit_serials=showcases["other_unit"].serials,
        demo_citizen_fin=own_row["fin"],
        demo_citizen2_fin=citizen2_row["fin"],
        showcases=showcases,
        accounts_table=tuple((u, r, unit) for u, (r, unit, _d) in DEMO_ACCOUNTS.items()),
    )


_SHOWCASE_LABELS = {
    "own": "demo-citizen's own subscriber (Yasamal, one meter)",
    "two_meter": "two meters (Yasamal)",
    "rollover": "register about to pass 99 999 (Yasamal)",
    "other_unit": "another unit (Nəsimi; demo-citizen2's own)",
}


def demo_readme_table(summary: DemoSummary) -> str:
    """Markdown tables of the demo logins and the showcase subscribers, for the README."""
    lines = [
        f"Password for every demo login: `{summary.password}`",
        "",
        "| login | role | unit |",
        "|---|---|---|",
    ]
    for username, role, unit in summary.accounts_table:
        lines.append(f"| `{username}` | {role} | {unit or '—'} |")
    lines += [
        "",
        f"Readings as of {summary.today.isoformat()}:",
        "",
        "| showcase | subscriber code | meter serial | last reading | plausible next reading |",
        "|---|---|---|---|---|",
    ]
    for key, label in _SHOWCASE_LABELS.items():
        sc = summary.showcases[key]
        for i, m in enumerate(sc.meters):
            first = i == 0
            lines.append(
                f"| {label if first else ''} | {'`' + sc.code + '`' if first else ''} | "
                f"`{m.serial}` | {m.last_value} ({m.last_read_on.isoformat()}) | "
                f"`{m.next_display}` |"
            )
    return "\n".join(lines) + "\n"
