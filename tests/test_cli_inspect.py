"""``orderflow inspect``: each partner fixture shown as the JSON contract says, nothing applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderflow.cli.main import app
from tests.support.shop_with_vendors import vendor_block, write_settings
from tests.support.x12_partner_files import LTL_FREIGHT, PARTNER_FILES, SHIPMENT_ONLY_ITEMS, PartnerFile

runner = CliRunner()


def inspect(tmp_path: Path, fixture: PartnerFile, *options: str, receiver: str = "ACMEBLANKS") -> dict[str, object]:
    write_settings(tmp_path, vendor_block("ACME", "x12", "local", path="acme") + f'[vendors.x12]\nreceiver_id = '
                                                                                   f'"{receiver}"\n')
    path = tmp_path / fixture.name
    path.write_text(fixture.text, encoding="utf-8")
    result = runner.invoke(app, ["--config", str(tmp_path / "orderflow.toml"), "--db",
                                 f"sqlite:///{tmp_path / 'never.db'}", "inspect", str(path), "--vendor", "acme",
                                 *options], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "never.db").exists(), "inspect applies nothing"
    return json.loads(result.stdout) if "json" in options else {"table": result.stdout}


class TestInspect:
    def test_shipment_item_notice_as_json(self, tmp_path: Path) -> None:
        """A Shipment/Item 856: one parcel shipment with both items in its parcel, nothing refused."""
        assert inspect(tmp_path, SHIPMENT_ONLY_ITEMS, "--format", "json") == {
            "acknowledgements": [],
            "shipments": [{"vendor_order": "TB2001-ACME", "carrier": "UPSN", "service": "UPS Ground",
                           "freight": False, "pro_number": None, "items": [],
                           "parcels": [{"tracking_number": "1Z4R8W670312345676", "carrier": "UPSN", "items": [
                               {"line": 1, "vendor_sku": "ACM-G500-BLK-L", "upc": "086753090017", "qty": 2},
                               {"line": 2, "vendor_sku": "ACM-18500-NVY-XL", "upc": "", "qty": 1}]}]}],
            "stock": [], "refusals": [], "warnings": []}

    def test_freight_items_sit_in_the_shipment(self, tmp_path: Path) -> None:
        """An LTL 856: freight true, its PRO, no parcels, the items in the shipment's own items."""
        (shipment,) = inspect(tmp_path, LTL_FREIGHT, "--format", "json")["shipments"]  # type: ignore[misc]
        assert (shipment["freight"], shipment["pro_number"], shipment["parcels"]) == (True, "08812345678", [])
        assert [item["qty"] for item in shipment["items"]] == [144, 48]

    def test_another_sender_is_a_warning_not_a_refusal(self, tmp_path: Path) -> None:
        """An envelope from an id other than the configured one is still read, with a warning."""
        report = inspect(tmp_path, SHIPMENT_ONLY_ITEMS, "--format", "json", receiver="ACMEOTHER")
        assert report["warnings"] == [
            "interchange ACMEBLANKS:000007001 comes from 'ACMEBLANKS', not 'ACMEOTHER' as configured"]
        assert len(report["shipments"]) == 1  # type: ignore[arg-type]

    @pytest.mark.parametrize("fixture", PARTNER_FILES, ids=[fixture.name for fixture in PARTNER_FILES])
    def test_every_fixture_shows_its_contents(self, tmp_path: Path, fixture: PartnerFile) -> None:
        """Each fixture's JSON holds as many answers, shipments and stock levels as it reads as."""
        report = inspect(tmp_path, fixture, "--format", "json")
        assert [len(report[key]) for key in ("acknowledgements", "shipments", "stock", "refusals")] == [  # type: ignore[arg-type]
            len(fixture.acks), len(fixture.ship_notices), len(fixture.stock), 0]

    def test_a_file_refused_whole_is_one_refusal(self, tmp_path: Path) -> None:
        """A cut-off file is shown as one refusal naming where, not an error."""
        cut = PartnerFile(name="cut.edi", source="cut", text=SHIPMENT_ONLY_ITEMS.text[:400])
        report = inspect(tmp_path, cut, "--format", "json")
        assert report["refusals"] == [{"where": "cut.edi:15", "reason": (
            "segment 15 is cut off: the file ends without its segment terminator '~' (truncated?)")}]

    def test_the_table_names_each_parcel(self, tmp_path: Path) -> None:
        """The table form lists the tracking number and the items."""
        table = inspect(tmp_path, SHIPMENT_ONLY_ITEMS)["table"]
        assert "1Z4R8W670312345676" in str(table)
        assert "ACM-G500-BLK-L" in str(table)
