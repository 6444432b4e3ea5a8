"""The structure of a NIK (Nomor Induk Kependudukan), the 16-digit population number.

    PP KK CC DDMMYY SSSS
    |  |  |  |      serial within the district and date, never 0000
    |  |  |  date of birth; 40 is added to the day for women
    |  |  district (kecamatan)
    |  regency or city (kabupaten/kota)
    province

A NIK is never reissued to correct a birth date, so a NIK whose date disagrees with
the birth date on record is a fact to verify, not an invalid number.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

# Province codes of the Ministry of Home Affairs (Kemendagri). 91 to 96 cover Papua
# before and after the 2022 split: older NIKs keep the code they were issued with.
PROVINCE_CODES = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "DI Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    "91": "Papua",
    "92": "Papua Barat",
    "93": "Papua Selatan",
    "94": "Papua Tengah",
    "95": "Papua Pegunungan",
    "96": "Papua Barat Daya",
}

FEMALE_DAY_OFFSET = 40


class NikError(ValueError):
    def __init__(self, message, code: str):
        super().__init__(str(message))
        self.message = message
        self.code = code


@dataclass(frozen=True)
class NikParts:
    nik: str
    province: str
    regency: str  # the first four digits: the office's region code
    district: str
    day: int
    month: int
    year_2digit: int
    female: bool
    serial: str

    def matches_birth_date(self, birth_date: date, sex: str | None = None) -> bool:
        same_date = (
            birth_date.day == self.day
            and birth_date.month == self.month
            and birth_date.year % 100 == self.year_2digit
        )
        if sex in ("M", "F"):
            return same_date and (sex == "F") == self.female
        return same_date


def _possible_date(day: int, month: int, yy: int) -> bool:
    """True if DD-MM-YY is a real date in 19YY or 20YY (29 February needs a leap year)."""
    for century in (1900, 2000):
        try:
            date(century + yy, month, day)
        except ValueError:
            continue
        return True
    return False


def parse_nik(value: str) -> NikParts:
    """Parse a NIK or raise NikError with a message the resident can act on."""
    nik = (value or "").strip()
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        raise NikError(_("A NIK is exactly 16 digits."), "nik_format")
    province = nik[:2]
    if province not in PROVINCE_CODES:
        raise NikError(
            _("The first two digits of the NIK (%(code)s) are not a province code.")
            % {"code": province},
            "nik_province",
        )
    raw_day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = raw_day > FEMALE_DAY_OFFSET
    day = raw_day - FEMALE_DAY_OFFSET if female else raw_day
    if not (1 <= month <= 12 and 1 <= day <= 31 and _possible_date(day, month, yy)):
        raise NikError(
            _("Digits 7 to 12 of the NIK are not a possible date of birth."), "nik_date"
        )
    serial = nik[12:]
    if serial == "0000":
        raise NikError(_("The last four digits of the NIK cannot be 0000."), "nik_serial")
    return NikParts(
        nik=nik,
        province=province,
        regency=nik[:4],
        district=nik[4:6],
        day=day,
        month=month,
        year_2digit=yy,
        female=female,
        serial=serial,
    )


def mask_nik(nik: str) -> str:
    """Show only the last four digits: the way a NIK appears everywhere by default."""
    if not nik:
        return ""
    return "*" * (len(nik) - 4) + nik[-4:]
