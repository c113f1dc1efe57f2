"""Tracking-number detection, check digits and the vendor-number verdict, against the packaged data set."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

import pytest

from orderflow.carriers.numbers import (
    CHECKSUMS,
    Match,
    Verdict,
    detect,
    normalize_carrier,
    normalize_number,
    tracking_url,
    validate,
)

UPS_URL = "https://wwwapps.ups.com/WebTracking/track?track=yes&trackNums="
USPS_URL = "https://tools.usps.com/go/TrackConfirmAction?tLabels="


def _packaged_couriers() -> list[dict[str, Any]]:
    folder = resources.files("orderflow.carriers").joinpath("tracking_data")
    files = sorted((item for item in folder.iterdir() if item.name.endswith(".json")), key=lambda i: i.name)
    return [json.loads(item.read_text(encoding="utf-8")) for item in files]


COURIERS = _packaged_couriers()
FORMATS = [(courier, fmt) for courier in COURIERS for fmt in courier["tracking_numbers"]]


def _expected_carrier(courier_code: str, number: str) -> str:
    """The carrier code detection must give a data-set number: S10 numbers issued in the US are USPS's."""
    if courier_code == "s10":
        return "usps" if normalize_number(number).endswith("US") else "s10"
    return courier_code


def _test_numbers(kind: str) -> list[Any]:
    return [
        pytest.param(courier["courier_code"], fmt, number, id=f"{courier['courier_code']}-{normalize_number(number)}")
        for courier, fmt in FORMATS
        for number in fmt["test_numbers"][kind]
    ]


class TestPackagedData:
    """The data set ships inside the package, whole, with its licence."""

    def test_eighteen_courier_files_are_packaged(self) -> None:
        """All 18 courier files of the data set are package data."""
        assert len(COURIERS) == 18

    def test_licence_sits_beside_the_data(self) -> None:
        """The MIT licence of the data set is packaged with it."""
        licence = resources.files("orderflow.carriers").joinpath("tracking_data", "LICENSE").read_text()
        assert licence.startswith("MIT License")
        assert "Copyright (c) 2017 Jeff Keen" in licence

    def test_every_checksum_algorithm_in_the_data_is_implemented(self) -> None:
        """The algorithms we implement are exactly the ones the data names."""
        named = {fmt["validation"]["checksum"]["name"] for _, fmt in FORMATS if "checksum" in fmt["validation"]}
        assert named == set(CHECKSUMS)

    def test_format_names_are_unique(self) -> None:
        """A format name identifies one format, so a match's tracking_number_type says which one fitted."""
        counts = Counter(fmt["name"] for _, fmt in FORMATS)
        assert [name for name, count in counts.items() if count > 1] == []


class TestDataSetNumbers:
    """Every test number of every courier file behaves as the data set says."""

    @pytest.mark.parametrize(("courier_code", "fmt", "number"), _test_numbers("valid"))
    def test_valid_number_is_detected_as_its_courier(self, courier_code: str, fmt: dict[str, Any], number: str) -> None:
        """A valid test number is detected as its courier and format, with its check digit passing."""
        carrier = _expected_carrier(courier_code, number)
        own = [m for m in detect(number) if m.tracking_number_type == fmt["name"]]
        assert [m.courier for m in own] == [carrier]
        assert own[0].check_digit_valid is True
        assert own[0].has_check_digit is ("checksum" in fmt["validation"])
        assert carrier in validate(number, None).candidates

    @pytest.mark.parametrize(("courier_code", "fmt", "number"), _test_numbers("invalid"))
    def test_invalid_number_fails_its_format(self, courier_code: str, fmt: dict[str, Any], number: str) -> None:
        """An invalid test number is not detected as the format it is listed under."""
        assert fmt["name"] not in [m.tracking_number_type for m in detect(number)]


class TestSampleFiles:
    """The tracking numbers in our composed vendor samples validate as their carriers."""

    @pytest.mark.parametrize(
        "number",
        # x12_856_ship_notice.edi, MAN*CP segments
        ["1Z4R8W670312345676", "1Z4R8W670312345694"],
    )
    def test_ship_notice_numbers_are_ups(self, number: str) -> None:
        """The 856 ship notice's package numbers are valid UPS numbers."""
        assert validate(number, "UPS") == Verdict(
            number=number, carrier="ups", valid=True, reason="valid UPS number (UPS format)", candidates=("ups",)
        )

    @pytest.mark.parametrize(
        "number",
        # vendor_tracking.csv, carrier USPS
        ["9400111899223855123450", "9400111899223855123467", "9400111899223855123474"],
    )
    def test_vendor_csv_numbers_are_usps(self, number: str) -> None:
        """The flat-file numbers are USPS IMpb numbers, and the tracking URL is the one the vendor sent."""
        verdict = validate(number, "USPS")
        assert (verdict.valid, verdict.carrier, verdict.candidates) == (True, "usps", ("usps",))
        assert verdict.reason == "valid USPS number (USPS IMpb N format)"
        assert tracking_url("USPS", number) == USPS_URL + number


class TestNormalizeNumber:
    """Numbers are compared without whitespace or dashes, in upper case."""

    @pytest.mark.parametrize(
        ("text", "normalized"),
        [
            (" 1z 5r89 3903 5756 7127 ", "1Z5R89390357567127"),
            ("1Z-5R8-939-0357567127", "1Z5R89390357567127"),
            ("9400\t1112 0620\n6406 2607 87", "9400111206206406260787"),
            ("9400\u20131112\u20140620", "940011120620"),
            ("", ""),
            ("  - ", ""),
        ],
    )
    def test_normalize(self, text: str, normalized: str) -> None:
        """Whitespace of any kind and dashes (also typographic ones) are dropped; letters are upper-cased."""
        assert normalize_number(text) == normalized

    def test_spaced_and_dashed_input_is_detected(self) -> None:
        """Detection normalizes the number first, so a spaced, dashed, lower-case number still matches."""
        assert [m.courier for m in detect(" 1z5r8-9390 3575 6712 7 ")] == ["ups"]

    def test_dashed_lasership_number_survives_normalization(self) -> None:
        """LaserShip prints a dash in its 18-character numbers; with or without it, the number is detected."""
        assert [m.tracking_number_type for m in detect("1LS7119013618127-1")] == ["LaserShip 1LS7 (18)"]
        assert [m.tracking_number_type for m in detect("1LS71190136181271")] == ["LaserShip 1LS7 (18)"]


class TestNormalizeCarrier:
    """Vendors' carrier names and SCAC codes map to our four carrier codes."""

    @pytest.mark.parametrize(
        ("name", "carrier"),
        [
            ("UPS", "ups"),
            ("UPSN", "ups"),
            ("ups ground", "ups"),
            ("United Parcel Service", "ups"),
            ("U.P.S.", "ups"),
            ("FedEx", "fedex"),
            ("Fed Ex", "fedex"),
            ("FDEG", "fedex"),
            ("FDE", "fedex"),
            ("FDX", "fedex"),
            ("FXFE", "fedex"),
            ("FedEx Ground", "fedex"),
            ("USPS", "usps"),
            ("US Postal Service", "usps"),
            ("U.S. Postal Service", "usps"),
            ("USPS Priority", "usps"),
            ("usps-priority", "usps"),
            ("DHL", "dhl"),
            ("DHL Express", "dhl"),
            ("DHLE", "dhl"),
            ("DHL eCommerce", "dhl"),
        ],
    )
    def test_known_names(self, name: str, carrier: str) -> None:
        """Case, punctuation and a trailing service name do not matter."""
        assert normalize_carrier(name) == carrier

    @pytest.mark.parametrize("name", ["Pony Express", "Purolator", "UPSX", "", "   ", "--"])
    def test_unknown_names(self, name: str) -> None:
        """A name we do not know, or no name at all, gives None."""
        assert normalize_carrier(name) is None


class TestCheckDigitAlgorithms:
    """Each algorithm the data set names computes the published check digits."""

    @pytest.mark.parametrize(
        ("algorithm", "serial", "check_digit", "spec"),
        [
            # UPS 1Z5R89390357567127: letters count as (ASCII - 3) mod 10
            ("mod10", "5R8939035756712", "7", {"evens_multiplier": 1, "odds_multiplier": 2}),
            # USPS IMpb 9400111206206406260787, weighted from the right
            ("mod10", "940011120620640626078", "7", {"evens_multiplier": 3, "odds_multiplier": 1, "reverse": True}),
            ("mod7", "331881002", "5", {"modulo": 7}),
            ("s10", "12345678", "5", {"weightings": [8, 6, 4, 2, 3, 5, 9, 7]}),
            ("s10", "10000002", "5", {}),  # weighted sum divisible by 11: check digit 5
            ("s10", "10000014", "0", {}),  # remainder 1: check digit 0
            (
                "sum_product_with_weightings_and_modulo",
                "98657878885",
                "5",
                {"weightings": [3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1], "modulo1": 11, "modulo2": 10},
            ),
            ("luhn", "7992739871", "3", {}),
            ("mod_37_36", "09980000020033", "F", {"modulo": 36}),
            ("mod_37_36", "09980000020034", "D", {}),
        ],
    )
    def test_published_check_digit_passes(
        self, algorithm: str, serial: str, check_digit: str, spec: dict[str, Any]
    ) -> None:
        """The published check digit passes."""
        assert CHECKSUMS[algorithm](serial, check_digit, spec) is True

    @pytest.mark.parametrize(
        ("algorithm", "serial", "check_digit", "spec"),
        [
            ("mod10", "5R8939035756712", "8", {"evens_multiplier": 1, "odds_multiplier": 2}),
            ("mod7", "331881001", "5", {"modulo": 7}),
            ("s10", "12345678", "6", {}),
            ("luhn", "7992739871", "4", {}),
            ("mod_37_36", "09980000020033", "D", {}),
        ],
    )
    def test_other_check_digit_fails(self, algorithm: str, serial: str, check_digit: str, spec: dict[str, Any]) -> None:
        """Any other check digit fails."""
        assert CHECKSUMS[algorithm](serial, check_digit, spec) is False


class TestDetectOrder:
    """detect() lists every passing format, best first, in a fixed order."""

    def test_usps_routing_barcode_ranks_above_fedex_express_34(self) -> None:
        """A 420+ZIP USPS barcode that also passes FedEx Express (34) lists USPS first: the marker decides."""
        matches = detect("4201028200009261290113185417468510")
        assert [(m.courier, m.tracking_number_type) for m in matches] == [
            ("usps", "USPS IMpb C"),
            ("fedex", "FedEx Express (34)"),
        ]

    def test_our_carriers_rank_above_other_couriers(self) -> None:
        """A 12-digit number valid for FedEx Express and Purolator lists FedEx first."""
        assert [m.courier for m in detect("287809468872")] == ["fedex", "purolator"]

    def test_verified_check_digit_ranks_above_pattern_only(self) -> None:
        """A UPS waybill with a good check digit ranks above Amazon's pattern, which has no check digit."""
        matches = detect("A1234567895")
        assert [(m.courier, m.has_check_digit) for m in matches] == [("ups", True), ("amazon", False)]

    def test_match_carries_courier_details_and_url(self) -> None:
        """A match names our carrier, the courier, the format and the tracking page of the number."""
        assert detect("1z5r89390357567127") == [
            Match(
                courier="ups",
                courier_name="UPS",
                tracking_number_type="UPS",
                check_digit_valid=True,
                tracking_url=UPS_URL + "1Z5R89390357567127",
                has_check_digit=True,
            )
        ]

    def test_us_s10_number_is_usps(self) -> None:
        """An S10 number issued in the US is a USPS number, tracked on the USPS site."""
        [match] = detect("RB123456785US")
        assert (match.courier, match.courier_name) == ("usps", "United States Postal Service")
        assert match.tracking_url == USPS_URL + "RB123456785US"

    def test_foreign_s10_number_names_its_postal_service(self) -> None:
        """An S10 number of another country keeps the code s10 and names the issuing post."""
        [match] = detect("RB123456785GB")
        assert (match.courier, match.courier_name, match.tracking_url) == ("s10", "Royal Mail Group plc", None)

    @pytest.mark.parametrize("number", ["", "   ", "hello world", "1Z", "1Z5R89390357567128", "9" * 500])
    def test_nothing_detected(self, number: str) -> None:
        """Garbage, empty input, a failing check digit or an overlong string detect nothing."""
        assert detect(number) == []


class TestValidate:
    """validate() judges a vendor's (number, carrier) pair and always returns a verdict."""

    def test_named_carrier_matches(self) -> None:
        """The number is valid for the carrier the vendor named."""
        assert validate("1Z5R89390357567127", "ups ground") == Verdict(
            "1Z5R89390357567127", "ups", True, "valid UPS number (UPS format)", ("ups",)
        )

    def test_named_carrier_among_several_candidates(self) -> None:
        """A number valid for several carriers keeps the named one, even when it is not the best detection."""
        verdict = validate("4201028200009261290113185417468510", "FDEG")
        assert (verdict.carrier, verdict.valid, verdict.candidates) == ("fedex", True, ("usps", "fedex"))
        assert verdict.reason == "valid FedEx number (FedEx Express (34) format)"

    def test_mismatch_takes_the_detected_carrier(self) -> None:
        """A number that is verifiably another carrier's is valid for that carrier, and the reason says so."""
        assert validate("1Z5R89390357567127", "FedEx") == Verdict(
            "1Z5R89390357567127",
            "ups",
            True,
            "named FedEx, but the number is a valid UPS number (UPS format); tracking with UPS",
            ("ups",),
        )

    def test_mismatch_with_pattern_only_match_is_invalid(self) -> None:
        """A number that only fits another carrier's pattern, with no check digit, does not overrule the vendor."""
        assert validate("60120172242323", "UPS") == Verdict(
            "60120172242323",
            "ups",
            False,
            "matches no UPS format; it fits only DHL E-Commerce (14), which has no check digit to confirm it",
            ("dhl",),
        )

    def test_no_carrier_named_takes_the_best_detection(self) -> None:
        """Without a named carrier the best detection decides."""
        verdict = validate("4201028200009261290113185417468510", None)
        assert (verdict.carrier, verdict.valid) == ("usps", True)
        assert verdict.reason == "valid USPS number (USPS IMpb C format)"

    def test_pattern_only_detection_says_so(self) -> None:
        """A detection without a check digit is valid, and the reason warns that nothing confirms it."""
        assert validate("GM2951173225174494", None).reason == (
            "valid DHL number (DHL E-Commerce format, the format has no check digit)"
        )

    def test_unknown_carrier_name_takes_the_best_detection(self) -> None:
        """A carrier name we do not know is reported, and the number's own carrier is used."""
        assert validate("986578788855", "Pony Express") == Verdict(
            "986578788855",
            "fedex",
            True,
            "'Pony Express' is not a carrier name we know; valid FedEx number (FedEx Express (12) format)",
            ("fedex",),
        )

    def test_check_digit_failure_names_the_format(self) -> None:
        """A 1Z number with a wrong check digit is invalid, and the reason names the UPS format."""
        assert validate("1Z5R89390357567128", "UPS") == Verdict(
            "1Z5R89390357567128", "ups", False, "check digit fails for UPS format", ()
        )

    def test_check_digit_failure_of_another_carrier(self) -> None:
        """A number named FedEx that is a broken UPS number says both things."""
        verdict = validate("1Z5R89390357567128", "FedEx")
        assert (verdict.carrier, verdict.valid) == ("fedex", False)
        assert verdict.reason == "matches no FedEx format; check digit fails for UPS format"

    def test_several_failing_formats_are_listed(self) -> None:
        """Every format whose pattern fits is named when all their check digits fail."""
        verdict = validate("123456789013", None)
        assert (verdict.carrier, verdict.valid) == (None, False)
        assert verdict.reason == "check digit fails for FedEx Express (12) and Purolator (12) formats"

    def test_unknown_s10_country_is_explained(self) -> None:
        """An S10 number with an unknown country code is invalid, and the reason says which code."""
        verdict = validate("RB123456785XX", "USPS")
        assert (verdict.carrier, verdict.valid) == ("usps", False)
        assert verdict.reason == "country code XX is not known for S10 format"

    def test_foreign_s10_named_usps_is_usps(self) -> None:
        """USPS tracks the US leg of foreign postal items by their S10 number, so USPS is kept."""
        assert validate("RB123456785GB", "USPS") == Verdict(
            "RB123456785GB",
            "usps",
            True,
            "valid USPS number (S10 format, issued by Royal Mail Group plc)",
            ("s10",),
        )

    def test_garbage_named_carrier(self) -> None:
        """Garbage is invalid and keeps the named carrier, so the caller stores it against that carrier."""
        assert validate("hello!!", "UPS") == Verdict(
            "HELLO!!", "ups", False, "matches no UPS format, nor any other known carrier format", ()
        )

    def test_garbage_no_carrier(self) -> None:
        """Garbage with no carrier is invalid with no carrier."""
        assert validate("not-a-number", None) == Verdict(
            "NOTANUMBER", None, False, "matches no known carrier format", ()
        )

    @pytest.mark.parametrize(("number", "named", "carrier"), [("", None, None), ("  -  ", "USPS", "usps")])
    def test_empty_number(self, number: str, named: str | None, carrier: str | None) -> None:
        """An empty number is invalid, not dropped."""
        assert validate(number, named) == Verdict("", carrier, False, "tracking number is empty", ())

    def test_spaced_number_is_stored_normalized(self) -> None:
        """The verdict carries the normalized number, ready to store."""
        assert validate(" 9400 1112 0620 6406 2607 87 ", "usps").number == "9400111206206406260787"


class TestTrackingUrl:
    """tracking_url() builds a carrier's public tracking page for a number."""

    def test_ups(self) -> None:
        """UPS numbers go to the UPS tracking page, normalized."""
        assert tracking_url("UPS", "1z5r 8939 0357 5671 27") == UPS_URL + "1Z5R89390357567127"

    def test_named_carrier_page_even_when_number_is_invalid(self) -> None:
        """A number that does not validate still gets the named carrier's page, so a person can look."""
        assert tracking_url("usps", "12345") == USPS_URL + "12345"

    def test_other_courier_by_data_set_code(self) -> None:
        """A data-set courier code gives that courier's page."""
        assert tracking_url("ontrac", "C11031500001879") == "http://www.ontrac.com/tracking/?number=C11031500001879"

    @pytest.mark.parametrize(("carrier", "number"), [("Pony Express", "1Z5R89390357567127"), ("ups", "  ")])
    def test_none(self, carrier: str, number: str) -> None:
        """An unknown carrier or an empty number has no page."""
        assert tracking_url(carrier, number) is None

    def test_number_is_url_quoted(self) -> None:
        """Characters that are not safe in a URL are escaped."""
        assert tracking_url("UPS", "A&B") == UPS_URL + "A%26B"
