"""Every table that names a rule, a carrier or a vendor format names one that exists.

Rules, carriers and vendor formats are each one record (``rules.findings.RuleEntry`` beside each rule,
``carriers.catalogue.Carrier``, ``vendors.formats.catalogue.VendorFormat``); everything else that lists them is
derived from the records or checked against them here, so a misspelt name (which would silently switch an
inhibition off, or leave a carrier undetected) fails a test instead.
"""

from __future__ import annotations

import json
import re
import typing
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from orderflow.carriers import numbers
from orderflow.carriers.apis import API
from orderflow.carriers.catalogue import CARRIERS, CODES, Carrier
from orderflow.cli.tracking import CARRIER_CODES, TRACK_HELP
from orderflow.config import FORMATS_BY_TRANSPORT, Settings, VendorSettings
from orderflow.demo import carriers as demo_carriers
from orderflow.demo import scoring, world
from orderflow.parsing.text import in_words
from orderflow.rules import catalogue, engine, listing, vocabulary
from orderflow.rules.findings import Hides, RuleEntry, SameProblem
from orderflow.rules.job_rules import JOB_INTERVALS, SCHEDULED_COMMANDS, SYNC_STEPS
from orderflow.schedule import SYNC_STEP_NAMES
from orderflow.sync import STEPS
from orderflow.testing import carriers as fake_carriers
from orderflow.vendors.formats.catalogue import FILE_TRANSPORTS, FORMAT_NAMES, TRANSPORTS, VENDOR_FORMATS, formats_over

ROOT = Path(__file__).resolve().parent.parent
RULE_NAMES = set(catalogue.TYPE_ORDER)


def unknown_rule_names(entries: typing.Iterable[RuleEntry]) -> list[str]:
    """Names an entry's inhibitions or same-problem pairs give that are not rules of ``entries``."""
    known = {entry.name for entry in entries}
    named = [name for entry in entries for hides in entry.hides for name in hides.rules]
    named += [same.rule for entry in entries for same in entry.same_problem]
    return [name for name in named if name not in known]


def never(_: object) -> list[object]:
    return []


class TestRules:
    def test_every_name_a_rule_entry_gives_is_a_rule(self) -> None:
        """What a rule hides, or names as the same problem, is a rule of the catalogue and not itself."""
        assert unknown_rule_names(catalogue.ENTRIES) == []
        for entry in catalogue.ENTRIES:
            named = {name for hides in entry.hides for name in hides.rules} | {s.rule for s in entry.same_problem}
            assert entry.name not in named, entry.name

    def test_a_misspelt_name_is_caught(self) -> None:
        """The check itself: an inhibition naming 'vendor_lat' is reported, not silently ignored."""
        typo = RuleEntry(name="vendor_rejected", check=never, rank=50,
                         hides=(Hides(frozenset({"vendor_lat"}), on="vendor_order_id"),),
                         same_problem=(SameProblem("stalled_in_transi", on="shipment_id"),))
        late = RuleEntry(name="vendor_late", check=never, rank=180)
        assert unknown_rule_names([typo, late]) == ["vendor_lat", "stalled_in_transi"]

    def test_names_and_ranks_are_unique_and_each_function_is_named_for_its_rule(self) -> None:
        entries = catalogue.ENTRIES
        assert len({entry.name for entry in entries}) == len({entry.rank for entry in entries}) == len(entries) == 22
        assert all(getattr(entry.check, "__name__", None) == entry.name for entry in entries)

    def test_the_engine_and_queue_tables_name_only_rules(self) -> None:
        """Freeze, inhibition, moot, by-hand and the queue's order all come from the entries."""
        for hider, hidden, _ in engine.INHIBITIONS:
            assert {hider, *hidden} <= RULE_NAMES
        for first, second, _ in engine.SAME_PROBLEM:
            assert {first, second} <= RULE_NAMES
        assert engine.FEED_RULE in RULE_NAMES
        assert engine.FROZEN_WITH_FEED | engine.NEVER_MOOT | engine.HANDLED_BY_HAND <= RULE_NAMES
        assert listing.TYPE_ORDER == vocabulary.TYPE_ORDER == catalogue.TYPE_ORDER  # the queue's light copy
        assert tuple(sorted(RULE_NAMES, key=lambda name: catalogue.BY_NAME[name].rank)) == catalogue.TYPE_ORDER

    def test_the_shared_field_of_every_inhibition_is_a_subject_field(self) -> None:
        from orderflow.rules.findings import SharedField, Subject

        fields = set(Subject.__dataclass_fields__)
        assert set(typing.get_args(SharedField)) <= fields
        assert {on for _, _, on in engine.INHIBITIONS} | {on for _, _, on in engine.SAME_PROBLEM} <= fields

    def test_the_readme_lists_every_rule_in_the_queues_order(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        table = readme.split("| rule | fires when |", 1)[1].split("\n\n", 1)[0]
        assert tuple(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)) == catalogue.TYPE_ORDER

    def test_the_demo_names_only_rules(self) -> None:
        assert set(world.SHOWN_RULES) <= RULE_NAMES
        assert set(scoring.WINDOWS) | scoring.VENDOR_RULES | scoring.PARCEL_RULES <= RULE_NAMES

    def test_the_job_rules_watch_the_pipeline_sync_runs(self) -> None:
        """The sync steps come from orderflow.sync; every command with an interval is a scheduled one."""
        assert tuple(step.name for step in STEPS) == SYNC_STEP_NAMES  # sync builds its steps from the names
        assert set(SYNC_STEP_NAMES) == SYNC_STEPS
        assert set(JOB_INTERVALS) <= set(SCHEDULED_COMMANDS)
        assert set(SCHEDULED_COMMANDS) - set(JOB_INTERVALS) == {"rules run"}


def courier_codes_in_the_data() -> set[str]:
    folder = resources.files("orderflow.carriers") / "tracking_data"
    return {json.loads(item.read_text(encoding="utf-8"))["courier_code"] for item in folder.iterdir()
            if item.name.endswith(".json")}


class TestCarriers:
    def test_codes_are_unique_and_every_table_uses_the_records(self) -> None:
        assert len(set(CODES)) == len(CARRIERS)
        assert numbers.CARRIERS == CARRIER_CODES == CODES
        assert tuple(API) == CODES
        assert demo_carriers.CARRIERS == CODES

    @pytest.mark.parametrize("carrier", CARRIERS, ids=lambda carrier: carrier.code)
    def test_every_alias_names_its_own_carrier(self, carrier: Carrier) -> None:
        """No alias is taken by another carrier listed before it, and each is upper-case words."""
        for alias in carrier.aliases:
            assert alias == " ".join(alias.split()).upper(), alias
            assert numbers.normalize_carrier(alias.lower()) == carrier.code, alias

    @pytest.mark.parametrize("carrier", CARRIERS, ids=lambda carrier: carrier.code)
    def test_every_courier_code_is_in_the_tracking_number_data(self, carrier: Carrier) -> None:
        """A misspelt courier code would leave the carrier's numbers detected as someone else's."""
        assert set(carrier.courier_codes) <= courier_codes_in_the_data()

    @pytest.mark.parametrize("carrier", CARRIERS, ids=lambda carrier: carrier.code)
    def test_every_carrier_has_a_connector_and_a_fake(self, carrier: Carrier) -> None:
        """Its connector module loads; the fake carrier the tests and the demo use speaks its API."""
        connector = carrier.load_connector()
        assert (connector.token_request is None) == (connector.parse_token is None)
        assert carrier.code in typing.get_args(fake_carriers.CarrierName)
        assert (carrier.code in fake_carriers.TOKEN_PATHS) == (connector.token_request is not None)

    def test_the_fakes_and_the_demo_name_only_carriers(self) -> None:
        assert set(typing.get_args(fake_carriers.CarrierName)) == set(CODES)
        assert set(fake_carriers.REPORTED_AS) <= set(CODES)
        assert {vendor.carrier for vendor in world.VENDORS} <= set(CODES)
        assert all(numbers.normalize_carrier(vendor.carrier_named) == vendor.carrier for vendor in world.VENDORS)

    def test_the_track_help_names_every_carrier(self) -> None:
        assert TRACK_HELP.startswith("Check the parcels that are due a check with UPS, FedEx, USPS and DHL,")
        assert all(carrier.name in TRACK_HELP for carrier in CARRIERS)
        assert in_words(["UPS"]) == "UPS"

    def test_the_settings_take_exactly_the_known_carriers(self) -> None:
        assert set(Settings(carriers={code: {} for code in CODES}).carriers) == set(CODES)  # type: ignore[misc]
        with pytest.raises(ValidationError, match="'ups', 'fedex', 'usps' or 'dhl'"):
            Settings(carriers={"upz": {}})  # type: ignore[dict-item]

    def test_the_architecture_doc_shows_the_records(self) -> None:
        """The carriers table in docs/architecture.md is what the records say."""
        doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
        assert carrier_table() in doc


def carrier_table() -> str:
    def quota(carrier: Carrier) -> str:
        if carrier.per_hour:
            return f"{carrier.per_hour:g} an hour"
        return f"{carrier.per_day:g} a day" if carrier.per_day else "none"

    rows = ["| code | name | vendors write | numbers per call | default quota |", "|---|---|---|---|---|"]
    rows += [f"| `{c.code}` | {c.name} | {', '.join(c.aliases)} | {c.batch_size} | {quota(c)} |" for c in CARRIERS]
    return "\n".join(rows)


class TestVendorFormats:
    def test_names_transports_and_suffixes(self) -> None:
        assert len(set(FORMAT_NAMES)) == len(VENDOR_FORMATS)
        for fmt in VENDOR_FORMATS:
            assert fmt.transports, fmt.name
            assert set(fmt.transports) <= set(TRANSPORTS), fmt.name
            over_files = set(fmt.transports) & set(FILE_TRANSPORTS)
            assert bool(over_files) == (fmt.renderer is not None) == (fmt.suffix is not None), fmt.name
        suffixes = [fmt.suffix for fmt in VENDOR_FORMATS if fmt.suffix]
        assert len(suffixes) == len(set(suffixes))

    def test_the_settings_offer_exactly_the_known_formats(self) -> None:
        assert {transport: formats_over(transport) for transport in TRANSPORTS} == FORMATS_BY_TRANSPORT
        for name in FORMAT_NAMES:
            transport = "local" if name in formats_over("local") else "http"
            VendorSettings(code="V", name="v", format=name, transport=transport, path=Path("v"),
                           base_url="https://vendor.test")
        with pytest.raises(ValidationError, match="'csv', 'x12', 'json' or 'printful'"):
            VendorSettings(code="V", name="v", format="edi", path=Path("v"))

    def test_the_readme_transport_table_is_what_the_records_say(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        for transport in TRANSPORTS:
            [row] = [line for line in readme.splitlines() if line.startswith(f"| `{transport}` ")]
            listed = re.findall(r"`([a-z0-9_]+)`", row.split(" | ")[1])
            assert set(listed) == set(formats_over(transport)), transport

    def test_the_demo_vendors_use_known_formats(self) -> None:
        assert {vendor.exchange for vendor in world.VENDORS} <= set(FORMAT_NAMES)
