"""Tracking-number detection and check digits, before any carrier API is called.

Vendors send tracking numbers with a missing, wrong or oddly spelled carrier. This module tells which
carriers a number can belong to and whether its check digit holds, from the courier formats packaged in
``tracking_data/`` (jkeen/tracking_number_data, MIT; its LICENSE sits beside the files)::

    >>> detect("1Z5R89390357567127")[0].courier
    'ups'
    >>> verdict = validate("1z 5r8 939 0357 5671 27", "UPS Ground")
    >>> verdict.valid, verdict.carrier, verdict.number
    (True, 'ups', '1Z5R89390357567127')
    >>> validate("1Z5R89390357567128", "UPS").reason
    'check digit fails for UPS format'
    >>> normalize_carrier("FDEG")
    'fedex'

Carrier codes are ours (the records of :mod:`orderflow.carriers.catalogue`) where the format belongs to one of
our carriers, and the data set's ``courier_code`` (e.g. "ontrac", "s10") for everyone else. S10 numbers (the
UPU format every postal service uses) issued by the United States ("...US") are USPS numbers; S10 numbers of
other countries keep the code "s10", named after the issuing postal service.

Detection is ambiguous by nature (a 12- to 34-digit number can fit several carriers), so :func:`detect`
returns every format that passes, best first:

1. formats whose check digit was verified, before formats that have no check digit (pattern only);
2. a match that rests on a fixed marker (the USPS ``420`` + ZIP routing code, or the ``91``-``96``
   application identifiers) before one that does not: a 34-digit ``420...`` USPS barcode also fits
   FedEx Express (34) and passes its check digit one time in ten;
3. UPS, FedEx, USPS, DHL (in that order), before other couriers;
4. the order of the data set (courier files by name, formats as listed in each file).

The module is pure: the only IO is reading the packaged JSON once, lazily.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote

from orderflow.carriers.catalogue import CARRIERS as CATALOGUE
from orderflow.carriers.catalogue import CODES
from orderflow.errors import OrderflowError
from orderflow.parsing.text import in_words

__all__ = [
    "CARRIERS",
    "CHECKSUMS",
    "Match",
    "Verdict",
    "detect",
    "normalize_carrier",
    "normalize_number",
    "tracking_url",
    "validate",
]

CARRIERS: tuple[str, ...] = CODES
"""Our carrier codes, in the order detection prefers them."""

FREIGHT = "freight"
"""The carrier code of a truckload or LTL shipment: followed with the freight carrier by its PRO, never polled."""

_CARRIER_NAMES = {carrier.code: carrier.name for carrier in CATALOGUE}

# The data set's courier codes that are one of our carriers. S10 is decided per number (country code).
_OUR_COURIER_CODES = {courier: carrier.code for carrier in CATALOGUE for courier in carrier.courier_codes}
_S10 = "s10"
_S10_ISSUERS = {carrier.s10_country: carrier.code for carrier in CATALOGUE if carrier.s10_country}
"""Country code -> the carrier whose S10 numbers those are (the USPS issues "...US")."""

# Hyphen-minus plus the dashes that word processors and spreadsheets substitute for it.
_DASHES = re.compile("[-\u2010-\u2015\u2212]")


# --------------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class Match:
    """One format a tracking number fits, with its check digit verified.

    ``check_digit_valid`` is True for every match :func:`detect` returns; a format that defines no check
    digit passes on its pattern alone, and ``has_check_digit`` is then False (weaker evidence).
    """

    courier: str
    courier_name: str
    tracking_number_type: str
    check_digit_valid: bool
    tracking_url: str | None
    has_check_digit: bool = True


@dataclass(frozen=True)
class Verdict:
    """What we conclude about a vendor's (number, carrier) pair. Invalid numbers get a verdict too.

    ``carrier`` is the carrier to track with (None when nothing is known); ``candidates`` lists every
    carrier the number validates for, best first; ``reason`` is a sentence for a person.
    """

    number: str
    carrier: str | None
    valid: bool
    reason: str
    candidates: tuple[str, ...]


# --------------------------------------------------------------------------------------------------
# Normalizing input


def normalize_number(text: str) -> str:
    """The number as carriers print it: no whitespace or dashes, upper case.

    >>> normalize_number(" 1z 5r89-3903 ")
    '1Z5R893903'
    """
    return _DASHES.sub("", "".join(text.split())).upper()


_CARRIER_ALIASES: Mapping[str, str] = {alias: carrier.code for carrier in CATALOGUE for alias in carrier.aliases}


def normalize_carrier(name: str) -> str | None:
    """Our carrier code for a vendor's carrier name or SCAC code, or None when we do not know it.

    Case, punctuation and spacing do not matter, and a known name followed by a service counts as
    that carrier::

        >>> normalize_carrier("ups ground"), normalize_carrier("USPS Priority"), normalize_carrier("Fed-Ex")
        ('ups', 'usps', 'fedex')
        >>> normalize_carrier("Pony Express") is None
        True
    """
    words = re.sub(r"[^A-Z0-9]+", " ", name.upper()).split()
    for alias, code in _CARRIER_ALIASES.items():
        alias_words = alias.split()
        if words[: len(alias_words)] == alias_words or "".join(words) == "".join(alias_words):
            return code
    return None


# --------------------------------------------------------------------------------------------------
# Check-digit algorithms, named as in the data set's ``validation.checksum.name``

Checksum = Callable[[str, str, Mapping[str, Any]], bool]
_DIGITS = "0123456789"


def _mod10(serial: str, check_digit: str, spec: Mapping[str, Any]) -> bool:
    """Weighted mod 10; letters count as (ASCII code - 3) mod 10, as UPS defines for 1Z numbers."""
    characters = serial[::-1] if spec.get("reverse") else serial
    evens, odds = int(spec.get("evens_multiplier", 1)), int(spec.get("odds_multiplier", 1))
    total = 0
    for index, character in enumerate(characters):
        value = int(character) if character in _DIGITS else (ord(character) - 3) % 10
        total += value * (odds if index % 2 else evens)
    return (10 - total % 10) % 10 == int(check_digit)


def _mod7(serial: str, check_digit: str, spec: Mapping[str, Any]) -> bool:
    """The serial as one integer, mod 7 (DHL Express waybills)."""
    return int(serial) % int(spec.get("modulo", 7)) == int(check_digit)


def _s10(serial: str, check_digit: str, spec: Mapping[str, Any]) -> bool:
    """UPU S10: weights 8,6,4,2,3,5,9,7, mod 11; remainder 0 gives 5 and remainder 1 gives 0."""
    weights: Sequence[int] = spec.get("weightings") or (8, 6, 4, 2, 3, 5, 9, 7)
    remainder = sum(int(digit) * weight for digit, weight in zip(serial, weights, strict=True)) % 11
    expected = {0: 5, 1: 0}.get(remainder, 11 - remainder)
    return expected == int(check_digit)


def _sum_product_with_weightings_and_modulo(serial: str, check_digit: str, spec: Mapping[str, Any]) -> bool:
    """Weighted sum, then mod ``modulo1`` and mod ``modulo2`` (FedEx Express)."""
    weights: Sequence[int] = spec["weightings"]
    total = sum(int(digit) * weight for digit, weight in zip(serial, weights, strict=True))
    return total % int(spec["modulo1"]) % int(spec["modulo2"]) == int(check_digit)


def _luhn(serial: str, check_digit: str, spec: Mapping[str, Any]) -> bool:
    """Luhn: from the right, every other digit doubled (and 9 taken off when over 9)."""
    total = 0
    for index, digit in enumerate(reversed(serial)):
        value = int(digit) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10 == int(check_digit)


def _mod_37_36(serial: str, check_digit: str, spec: Mapping[str, Any]) -> bool:
    """ISO 7064 hybrid mod 37,36 over digits and letters (DPD parcel labels)."""
    alphabet: str = spec.get("alphabet") or _DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    modulo = int(spec.get("modulo", 36))
    carry = modulo
    for character in serial:
        carry += alphabet.index(character)
        if carry > modulo:
            carry -= modulo
        carry *= 2
        if carry > modulo:
            carry -= modulo + 1
    expected = (modulo + 1 - carry) % modulo
    return alphabet[expected] == check_digit


CHECKSUMS: Mapping[str, Checksum] = {
    "mod10": _mod10,
    "mod7": _mod7,
    "s10": _s10,
    "sum_product_with_weightings_and_modulo": _sum_product_with_weightings_and_modulo,
    "luhn": _luhn,
    "mod_37_36": _mod_37_36,
}
"""Every check-digit algorithm the packaged data names, by that name."""


# --------------------------------------------------------------------------------------------------
# The packaged formats


@dataclass(frozen=True)
class _Lookup:
    """A table that names a regex group's value (service types, S10 countries, ...)."""

    name: str
    group: str
    entries: tuple[Mapping[str, Any], ...]

    def find(self, value: str) -> Mapping[str, Any] | None:
        for entry in self.entries:
            if "matches" in entry and value == entry["matches"]:
                return entry
            if "matches_regex" in entry and re.search(entry["matches_regex"], value):
                return entry
        return None


@dataclass(frozen=True)
class _Format:
    """One number format of one courier, compiled from its JSON entry."""

    courier_code: str
    courier_name: str
    name: str
    pattern: re.Pattern[str]
    checksum: Mapping[str, Any] | None
    prepend_if: tuple[re.Pattern[str], str] | None
    required_lookups: tuple[_Lookup, ...]
    lookups: Mapping[str, _Lookup]
    url_template: str | None


def _python_pattern(source: str | list[str]) -> re.Pattern[str]:
    """Compile a data-set regex (Ruby/JS syntax) for Python, to match a normalized number whole.

    Named groups become ``(?P<...>)``. Literal dashes outside character classes are dropped, because
    :func:`normalize_number` removes dashes before matching (LaserShip prints ``...127-1``).
    """
    text = "".join(source) if isinstance(source, list) else source
    text = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", text)
    kept: list[str] = []
    in_class = escaped = False
    for character in text:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "[":
            in_class = True
        elif character == "]":
            in_class = False
        elif character == "-" and not in_class:
            continue
        kept.append(character)
    return re.compile("".join(kept), re.ASCII)


def _compile_format(courier: Mapping[str, Any], entry: Mapping[str, Any]) -> _Format:
    validation: Mapping[str, Any] = entry.get("validation") or {}
    lookups = {
        item["name"]: _Lookup(item["name"], item["regex_group_name"], tuple(item["lookup"]))
        for item in entry.get("additional") or ()
    }
    checksum = validation.get("checksum")
    if checksum is not None and checksum["name"] not in CHECKSUMS:
        raise OrderflowError(f"tracking-number data names an unknown check-digit algorithm: {checksum['name']}")
    prepend = (validation.get("serial_number_format") or {}).get("prepend_if")
    required = (validation.get("additional") or {}).get("exists") or ()
    return _Format(
        courier_code=courier["courier_code"],
        courier_name=courier["name"],
        name=entry["name"],
        pattern=_python_pattern(entry["regex"]),
        checksum=checksum,
        prepend_if=(re.compile(prepend["matches_regex"]), prepend["content"]) if prepend else None,
        required_lookups=tuple(lookups[name] for name in required),
        lookups=lookups,
        url_template=entry.get("tracking_url"),
    )


@functools.cache
def _formats() -> tuple[_Format, ...]:
    """Every packaged format, in data-set order (files by name). Read once, on first use."""
    folder = resources.files("orderflow.carriers").joinpath("tracking_data")
    try:
        files = sorted((item for item in folder.iterdir() if item.name.endswith(".json")), key=lambda i: i.name)
        couriers = [json.loads(item.read_text(encoding="utf-8")) for item in files]
        formats = tuple(
            _compile_format(courier, entry) for courier in couriers for entry in courier["tracking_numbers"]
        )
    except (OSError, ValueError, KeyError, TypeError, re.error) as error:
        raise OrderflowError(f"packaged tracking-number data is missing or damaged: {error}") from error
    if not formats:
        raise OrderflowError("packaged tracking-number data is missing: no courier files found")
    return formats


# --------------------------------------------------------------------------------------------------
# Examining a number against one format

# Groups that hold a fixed marker (the 420 routing code, the 91-96 application identifiers): a match
# that rests on one pins the format down better than a run of free digits.
_MARKER_GROUPS = ("RoutingApplicationId", "ApplicationIdentifier")

# The longest format is 41 characters; anything far longer is pasted text, not worth 40 regexes.
_LONGEST_NUMBER = 64


@dataclass(frozen=True)
class _Examination:
    """How a number fares against one format whose pattern it fits."""

    format: _Format
    courier: str
    courier_name: str
    marked: bool
    check_digit_ok: bool
    unknown_value: str | None  # "country code XX" when a required lookup finds nothing

    @property
    def passes(self) -> bool:
        return self.check_digit_ok and self.unknown_value is None

    def as_match(self, number: str) -> Match:
        return Match(
            courier=self.courier,
            courier_name=self.courier_name,
            tracking_number_type=self.format.name,
            check_digit_valid=self.passes,
            tracking_url=_format_url(self, number),
            has_check_digit=self.format.checksum is not None,
        )


def _examine(number: str, fmt: _Format) -> _Examination | None:
    """None when the pattern does not fit; otherwise the result of the check digit and lookups."""
    found = fmt.pattern.fullmatch(number)
    if found is None:
        return None
    courier, courier_name = _courier_of(fmt, found)
    return _Examination(
        format=fmt,
        courier=courier,
        courier_name=courier_name,
        marked=any(_group(found, name) for name in _MARKER_GROUPS),
        check_digit_ok=_check_digit_ok(fmt, found),
        unknown_value=_unknown_value(fmt, found),
    )


def _courier_of(fmt: _Format, found: re.Match[str]) -> tuple[str, str]:
    """Our carrier code and the courier's name for a fitted number."""
    if fmt.courier_code == _S10:
        issuer = _lookup_entry(fmt, found, "Courier")
        name = str(issuer["courier"]) if issuer else fmt.courier_name
        return _S10_ISSUERS.get(_group(found, "CountryCode") or "", _S10), name
    return _OUR_COURIER_CODES.get(fmt.courier_code, fmt.courier_code), fmt.courier_name


def _check_digit_ok(fmt: _Format, found: re.Match[str]) -> bool:
    if fmt.checksum is None:
        return True
    serial = _group(found, "SerialNumber") or ""
    if fmt.prepend_if and fmt.prepend_if[0].search(serial):
        serial = fmt.prepend_if[1] + serial
    return CHECKSUMS[fmt.checksum["name"]](serial, _group(found, "CheckDigit") or "", fmt.checksum)


def _unknown_value(fmt: _Format, found: re.Match[str]) -> str | None:
    """The first value a required lookup does not know, as "country code XX"; None when all are known."""
    for lookup in fmt.required_lookups:
        value = _group(found, lookup.group) or ""
        if lookup.find(value) is None:
            return f"{re.sub(r'(?<=[a-z])(?=[A-Z])', ' ', lookup.group).lower()} {value}"
    return None


def _group(found: re.Match[str], name: str) -> str | None:
    if name not in found.re.groupindex:
        return None
    value = found.group(name)
    return None if value is None else "".join(value.split())


def _lookup_entry(fmt: _Format, found: re.Match[str], lookup_name: str) -> Mapping[str, Any] | None:
    lookup = fmt.lookups.get(lookup_name)
    return lookup.find(_group(found, lookup.group) or "") if lookup else None


def _examinations(number: str) -> list[_Examination]:
    """Every format the number's pattern fits, best first (see the module docstring)."""
    if len(number) > _LONGEST_NUMBER:
        return []
    fitted = (_examine(number, fmt) for fmt in _formats())
    found = [examination for examination in fitted if examination is not None]
    return sorted(found, key=_rank)  # sorted() is stable: data-set order breaks ties


def _rank(examination: _Examination) -> tuple[bool, bool, int]:
    courier = examination.courier
    carrier_order = CARRIERS.index(courier) if courier in CARRIERS else len(CARRIERS)
    return examination.format.checksum is None, not examination.marked, carrier_order


# --------------------------------------------------------------------------------------------------
# Detection and tracking pages


def detect(number: str) -> list[Match]:
    """Every courier format the number fits and validates for, best first (see the module docstring).

    >>> [(m.courier, m.tracking_number_type) for m in detect("9400 1112 0620 6406 2607 87")]
    [('usps', 'USPS IMpb N')]
    >>> detect("not a number")
    []
    """
    normalized = normalize_number(number)
    if not normalized:
        return []
    return [e.as_match(normalized) for e in _examinations(normalized) if e.passes]


def _format_url(examination: _Examination, number: str) -> str | None:
    template = examination.format.url_template
    if template is None and examination.courier in CARRIERS:
        # S10 numbers the USPS issued are tracked on the USPS site like its own numbers.
        template = _default_url_template(examination.courier)
    return _fill(template, number) if template else None


def _fill(template: str, number: str) -> str:
    return template.replace("%s", quote(number, safe=""), 1)


def _default_url_template(carrier: str) -> str | None:
    """The first tracking URL the data set gives for a carrier code (ours or the data set's)."""
    for fmt in _formats():
        if fmt.url_template and _OUR_COURIER_CODES.get(fmt.courier_code, fmt.courier_code) == carrier:
            return fmt.url_template
    return None


def tracking_url(carrier: str, number: str) -> str | None:
    """The carrier's public tracking page for a number, or None when the carrier has none we know.

    ``carrier`` may be any spelling :func:`normalize_carrier` knows, or a data-set courier code::

        >>> tracking_url("UPS", "1z5r89390357567127")
        'https://wwwapps.ups.com/WebTracking/track?track=yes&trackNums=1Z5R89390357567127'
    """
    code = normalize_carrier(carrier) or carrier.strip().lower()
    normalized = normalize_number(number)
    if not normalized:
        return None
    for match in detect(normalized):
        if match.courier == code and match.tracking_url:
            return match.tracking_url
    template = _default_url_template(code)
    return _fill(template, normalized) if template else None


# --------------------------------------------------------------------------------------------------
# Judging a vendor's number and carrier


def _carried_by(courier: str, carrier: str) -> bool:
    """Whether ``carrier`` tracks numbers detected as ``courier``.

    USPS carries the US leg of international postal items and tracks them by their S10 number, so an
    S10 number from any country counts as a USPS number when the vendor says USPS.
    """
    return courier == carrier or (courier == _S10 and carrier in _S10_ISSUERS.values())


def validate(number: str, named_carrier: str | None) -> Verdict:
    """Judge a vendor's tracking number and the carrier they named (any spelling, or None).

    Policy, in order:

    - the number validates for the named carrier: valid, that carrier;
    - no carrier named, or a name we do not know: valid, the best detected carrier;
    - it validates for another carrier by a check digit: valid, the detected carrier (a verified check
      digit is better evidence than a vendor's label), and ``reason`` states the mismatch;
    - it fits other carriers only by patterns that have no check digit: invalid, the named carrier kept,
      since nothing confirms the vendor was wrong;
    - nothing validates: invalid, the named carrier (or None) kept, and the reason says what failed.

    >>> validate("1Z5R89390357567127", "FedEx").reason
    'named FedEx, but the number is a valid UPS number (UPS format); tracking with UPS'
    >>> validate("12345", None).reason
    'matches no known carrier format'
    """
    normalized = normalize_number(number)
    named = normalize_carrier(named_carrier) if named_carrier else None
    if not normalized:
        return Verdict(normalized, named, valid=False, reason="tracking number is empty", candidates=())
    examinations = _examinations(normalized)
    matches = [e.as_match(normalized) for e in examinations if e.passes]
    candidates = tuple(dict.fromkeys(match.courier for match in matches))
    if named is not None:
        return _named_verdict(
            number=normalized,
            named=named,
            named_as=named_carrier or "",
            examinations=examinations,
            matches=matches,
            candidates=candidates,
        )
    unknown_name = f"{named_carrier.strip()!r} is not a carrier name we know; " if named_carrier else ""
    if matches:
        best = matches[0]
        return Verdict(normalized, best.courier, True, unknown_name + _valid_reason(best), candidates)
    reason = unknown_name + _failure_reason(examinations)
    return Verdict(normalized, None, False, reason, candidates)


def _named_verdict(
    *,
    number: str,
    named: str,
    named_as: str,
    examinations: Sequence[_Examination],
    matches: Sequence[Match],
    candidates: tuple[str, ...],
) -> Verdict:
    """The verdict when the vendor named one of our carriers."""
    own = next((match for match in matches if _carried_by(match.courier, named)), None)
    if own is not None:
        return Verdict(number, named, True, _valid_reason(own, named), candidates)
    if named in _SSCC_CARRIERS and _is_sscc(number):
        # The same 20 digits also pass another carrier's check digit; the vendor, who printed the label, knows.
        return Verdict(number, named, True, f"valid {_CARRIER_NAMES[named]} number (GS1 SSCC form)", candidates)
    other = next((match for match in matches if match.has_check_digit), None)
    if other is not None:
        who = _display_name(other.courier, other)
        reason = f"named {named_as.strip()}, but the number is a {_valid_reason(other)}; tracking with {who}"
        return Verdict(number, other.courier, True, reason, candidates)
    own_failures = [e for e in examinations if _carried_by(e.courier, named)]
    if own_failures:
        return Verdict(number, named, False, _failure_reason(own_failures), candidates)
    reason = f"matches no {_CARRIER_NAMES[named]} format"
    if matches:
        weak = in_words(dict.fromkeys(match.tracking_number_type for match in matches))
        reason += f"; it fits only {weak}, which has no check digit to confirm it"
    elif examinations:
        reason += f"; {_failure_reason(examinations)}"
    else:
        reason += ", nor any other known carrier format"
    return Verdict(number, named, False, reason, candidates)


# Carriers that label parcels with a GS1 SSCC (application identifier 00, then 18 digits with a GS1 check
# digit): DHL Paket and DHL eCommerce. The form is shared, so only the vendor's naming tells them apart.
_SSCC_CARRIERS = frozenset(carrier.code for carrier in CATALOGUE if carrier.sscc)
_SSCC = re.compile(r"00(\d{18})")


def _is_sscc(number: str) -> bool:
    found = _SSCC.fullmatch(number)
    if found is None:
        return False
    digits = found.group(1)
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(digits[:-1]))
    return (10 - total % 10) % 10 == int(digits[-1])


def _display_name(carrier: str, match: Match) -> str:
    return _CARRIER_NAMES.get(carrier, match.courier_name)


def _valid_reason(match: Match, carrier: str | None = None) -> str:
    """E.g. "valid UPS number (UPS format)"."""
    carrier = carrier or match.courier
    details = [f"{match.tracking_number_type} format"]
    if carrier != match.courier:
        details.append(f"issued by {match.courier_name}")
    if not match.has_check_digit:
        details.append("the format has no check digit")
    return f"valid {_display_name(carrier, match)} number ({', '.join(details)})"


def _failure_reason(examinations: Sequence[_Examination]) -> str:
    """Why the fitted formats fail, e.g. "check digit fails for UPS format"."""
    if not examinations:
        return "matches no known carrier format"
    sentences = []
    bad_check_digit = [e.format.name for e in examinations if not e.check_digit_ok]
    if bad_check_digit:
        plural = "formats" if len(set(bad_check_digit)) > 1 else "format"
        sentences.append(f"check digit fails for {in_words(dict.fromkeys(bad_check_digit))} {plural}")
    sentences.extend(
        f"{e.unknown_value} is not known for {e.format.name} format"
        for e in examinations
        if e.check_digit_ok and e.unknown_value
    )
    return "; ".join(sentences)
