"""X12 as trading partners send it: every fixture reads as expected, and nothing in a ship notice is ever lost."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.vendors.formats.x12 import parse_x12
from orderflow.vendors.records import ParsedVendorFile
from tests.support.x12_partner_files import PARTNER_FILES, PartnerFile, interchange


class TestPartnerFiles:
    @pytest.mark.parametrize("fixture", PARTNER_FILES, ids=[fixture.name for fixture in PARTNER_FILES])
    def test_each_partner_shape_reads_as_expected(self, fixture: PartnerFile) -> None:
        """Each published shape gives exactly its expected notices, answers and stock, with nothing refused."""
        parsed = parse_x12(fixture.text.encode(), file=fixture.name)
        assert parsed.refusals == []
        assert (parsed.ship_notices, parsed.acks, parsed.stock) == (fixture.ship_notices, fixture.acks,
                                                                    fixture.stock)
        assert parsed.warnings == fixture.warnings

    @pytest.mark.parametrize("fixture", PARTNER_FILES, ids=[fixture.name for fixture in PARTNER_FILES])
    def test_every_number_and_item_of_a_fixture_lands(self, fixture: PartnerFile) -> None:
        """No fixture is accepted with fewer tracking numbers or items than it holds."""
        parsed = parse_x12(fixture.text.encode(), file=fixture.name)
        numbers, items = _numbers_and_items(fixture.text)
        assert numbers <= _landed_numbers(parsed)
        assert items == _landed_item_count(parsed)

    def test_unknown_acknowledgement_code_names_the_code(self) -> None:
        """A BAK02 outside the X12 list refuses that acknowledgement naming the code; nothing is guessed."""
        parsed = parse_x12(interchange("855", ["BAK*00*XQ*TB2090-ACME*20260312"], functional_id="PR"), file="a.edi")
        assert parsed.acks == []
        assert [refusal.reason for refusal in parsed.refusals] == [
            "segment 4 (BAK): unknown acknowledgement type 'XQ' (BAK02); the file is kept, and the order waits for "
            "an answer orderflow can read"]

    def test_freight_with_a_parcel_number_is_refused_loudly(self) -> None:
        """A carton number (MAN*CP) on a motor freight notice is refused naming its segment, never guessed."""
        parsed = parse_x12(interchange("856", [
            "BSN*00*X*20260314*1630", "HL*1**S", "TD5**2*ODFL*M", "REF*CN*0881", "HL*2*1*O", "PRF*TB2091-ACME",
            "HL*3*2*P", "MAN*CP*1Z999", "HL*4*3*I", "LIN*1*VN*A", "SN1*1*1*EA"]), file="f.edi")
        assert parsed.ship_notices == []
        assert [refusal.reason for refusal in parsed.refusals] == [
            "segment 11 (MAN): MAN*CP '1Z999' is a parcel number, but TD504 'M' says this is freight (motor, LTL, "
            "rail or ocean); a notice cannot be both"]

    def test_a_level_of_unknown_kind_without_parent_is_refused(self) -> None:
        """A blank HL02 on a level whose code has no place in S/O/T/P/Q/I cannot be placed: refused, named."""
        parsed = parse_x12(interchange("856", [
            "BSN*00*X*20260314*1630", "HL*1**S", "REF*CN*1Z1", "HL*2**O", "PRF*TB2092-ACME",
            "HL*3**X", "LIN*1*VN*A", "SN1*1*1*EA"]), file="b.edi")
        assert parsed.ship_notices == []
        assert [refusal.reason for refusal in parsed.refusals] == [
            "segment 9 (HL): the parent is blank and level code 'X' has no known place (S, O, T, P, Q, I); the "
            "item cannot be placed"]


# Either separator the fixtures use (* or |).
_NUMBER_SEGMENT = re.compile(r"^(?:MAN[*|]CP|REF[*|]CN|REF[*|]2I)[*|]([^*|~\s]+)", re.MULTILINE)


def _numbers_and_items(text: str) -> tuple[set[str], int]:
    numbers = set(_NUMBER_SEGMENT.findall(text))
    return numbers, len(re.findall(r"^SN1[*|]", text, re.MULTILINE))


def _landed_numbers(parsed: ParsedVendorFile) -> set[str]:
    notices = parsed.ship_notices
    return ({parcel.tracking_number for each in notices for parcel in each.parcels}
            | {each.pro_number for each in notices if each.freight})


def _landed_item_count(parsed: ParsedVendorFile) -> int:
    notices = parsed.ship_notices
    return sum(len(parcel.lines) for each in notices for parcel in each.parcels) + sum(
        len(each.freight_lines) for each in notices)


# Mostly levels that can be read, so most drawn notices are accepted and their contents checked.
_CODES = st.sampled_from(["S", "O", "T", "P", "I", "I", "P", "O", "X"])


@st.composite
def ship_notices(draw: st.DrawFn) -> list[str]:
    """An 856 body of arbitrary HL trees: any level codes, parents given, blank or dangling, PRF, carrier
    numbers and items on any level, and a parcel or freight TD5."""
    body = ["BSN*00*P*20260314*1630"]
    count = draw(st.integers(1, 9))
    for number in range(1, count + 1):
        roll = draw(st.integers(0, 99))
        parent = "99" if roll == 0 else "" if roll < 12 or number == 1 else str(draw(st.integers(1, number - 1)))
        code = "S" if number == 1 else draw(_CODES)
        body.append(f"HL*{number}*{parent}*{code}")
        if number == 1:
            body.append(draw(st.sampled_from(["TD5**2*UPSN*U", "TD5**2*ODFL*M", "TD5**2*FDEG"])))
        if code == "O" or draw(st.integers(0, 2 if number > 1 else 1)) == 0:
            body.append(f"PRF*TB{draw(st.integers(1, 3))}-ACME")
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["MAN*CP", "REF*CN", "REF*2I", "REF*BM"]))
            body.append(f"{kind}*N{number}{draw(st.integers(0, 9))}")
        if draw(st.booleans()):
            body += [f"LIN*{number}*VN*V{number}", f"SN1*{number}*{draw(st.integers(0, 5))}*EA"]
    return body


class TestNothingIsDropped:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=ship_notices())
    def test_every_item_and_carrier_number_lands_or_is_named(self, body: list[str]) -> None:
        """Whatever the HL tree, each LIN lands in a notice or its set is refused, and each carrier number
        lands as a parcel or PRO, or a refusal or warning names its segment."""
        text = interchange("856", body)
        parsed = parse_x12(text, file="p.edi")
        if parsed.refusals:
            assert parsed.ship_notices == []
            assert all(re.match(r"segment \d+ \(", refusal.reason) for refusal in parsed.refusals)
            return
        assert _landed_item_count(parsed) == sum(1 for segment in body if segment.startswith("SN1*"))
        landed = _landed_numbers(parsed)
        named = " ".join(parsed.warnings)
        for segment in body:
            if found := _NUMBER_SEGMENT.match(segment):
                assert found.group(1) in landed or repr(found.group(1)) in named, segment
