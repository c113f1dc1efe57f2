"""The staff queue through the real entry point: list, ack, snooze, resolve, why, silence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from orderflow.db.engine import session_factory
from orderflow.errors import ExitCode
from orderflow.rules.engine import evaluate
from tests.support.cli import orderflow
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings
from tests.support.stand_in_rules import ALL, MON, World, late, rejected

NOW = "2026-11-02T16:00:00Z"


@pytest.fixture
def queue_options(engine: Engine, database_url: str, tmp_path: Path) -> list[str]:
    """A shop whose queue holds a rejection (critical) and a lateness (warning)."""
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
    place_orders(engine, settings, MON, tmp_path, orders={"9101": ["SKU-ACME"]})
    world = World()
    world.true = {"vendor_late": [late("TB9102-ACME")], "vendor_rejected": [rejected("TB9101-ACME")]}
    with session_factory(engine)() as session, session.begin():
        evaluate(session=session, settings=settings, now=MON, rules=world.rules(*ALL))
    return ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW]


def listed(options: list[str], *extra: str) -> list[dict]:  # type: ignore[type-arg]
    result = orderflow(*options, "notifications", "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


class TestQueueCommands:
    def test_sorted_by_type_with_the_contract_fields(self, queue_options: list[str]) -> None:
        """--sort type puts the rejection before the lateness; JSON carries the documented fields."""
        items = listed(queue_options, "--sort", "type")
        assert [item["rule"] for item in items] == ["vendor_rejected", "vendor_late"]
        assert set(items[0]) == {"id", "rule", "severity", "state", "subject", "order_number", "vendor",
                                 "vendor_order", "tracking_number", "carrier", "evidence", "opened_at",
                                 "last_seen_at", "acked_by", "snoozed_until", "resolved_at", "pushed_at",
                                 "suppressed_by", "due_at", "late_business_days"}
        assert items[0]["subject"] == "vendor_order:TB9101-ACME"
        assert (items[0]["due_at"], items[0]["late_business_days"]) == (None, None), "a rejection is not lateness"

    def test_table_groups_by_type(self, queue_options: list[str]) -> None:
        """The table shows a titled group per type with its count."""
        result = orderflow(*queue_options, "notifications", "--sort", "type")
        assert result.returncode == 0
        assert "vendor rejected (1)" in result.stdout
        assert result.stdout.index("vendor rejected") < result.stdout.index("vendor late")

    def test_a_long_group_shows_its_first_rows_and_counts_the_rest(self, engine: Engine, database_url: str,
                                                                   tmp_path: Path) -> None:
        """With --limit 2, three rejections show two rows, the count of three, and how to list them all."""
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
        place_orders(engine, settings, MON, tmp_path, orders={"9101": ["SKU-ACME"]})
        world = World()
        world.true = {"vendor_rejected": [rejected(f"TB910{n}-ACME") for n in (1, 2, 3)]}
        with session_factory(engine)() as session, session.begin():
            evaluate(session=session, settings=settings, now=MON, rules=world.rules(*ALL))
        options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW]
        shown = orderflow(*options, "notifications", "--limit", "2").stdout
        assert "vendor rejected (3)" in shown
        assert shown.count("out of production") == 2
        assert "... and 1 more: --type vendor_rejected --limit 0 lists them all" in shown
        everything = orderflow(*options, "notifications", "--limit", "0").stdout
        assert "more:" not in everything
        assert everything.count("out of production") == 3
        assert len(listed(options)) == 3, "json lists them all whatever the limit"

    def test_ack_snooze_resolve_and_why(self, queue_options: list[str]) -> None:
        """Staff actions change the state, and why tells the story with who did what."""
        rejection, lateness = listed(queue_options)
        acked = orderflow(*queue_options, "notifications", "ack", str(rejection["id"]), "--note", "calling")
        assert acked.returncode == 0
        assert orderflow(*queue_options, "notifications", "snooze", str(lateness["id"]), "--for", "2d").returncode == 0
        assert [item["state"] for item in listed(queue_options, "--state", "all")] == ["acknowledged", "snoozed"]
        assert [item["rule"] for item in listed(queue_options)] == ["vendor_rejected"]
        refused = orderflow(*queue_options, "notifications", "resolve", str(rejection["id"]), "--note", "")
        assert refused.returncode == ExitCode.INPUT_REFUSED
        assert orderflow(*queue_options, "notifications", "resolve", str(rejection["id"]),
                         "--note", "re-ordered elsewhere").returncode == 0
        story = orderflow(*queue_options, "notifications", "why", str(rejection["id"])).stdout
        assert "-> acknowledged" in story
        assert "manual: re-ordered elsewhere" in story

    def test_silence_needs_a_comment_and_hides(self, queue_options: list[str]) -> None:
        """A silence without a comment is refused; with one it hides the matches until it ends."""
        missing = orderflow(*queue_options, "notifications", "silence", "--match", "vendor=ACME", "--for", "1d")
        assert missing.returncode == ExitCode.USAGE
        made = orderflow(*queue_options, "notifications", "silence", "--match", "rule=vendor_late", "--for", "1d",
                         "--comment", "Acme is moving warehouses")
        assert made.returncode == 0
        assert made.stdout.startswith("silence #1 until ")
        assert made.stdout.endswith(": hides 1 open notification now\n")
        [silence] = json.loads(orderflow(*queue_options, "notifications", "silences", "--format", "json").stdout)
        assert silence["comment"] == "Acme is moving warehouses"


class TestStaffActions:
    def test_ack_several_by_name_then_why_and_unack(self, queue_options: list[str]) -> None:
        """ack takes several ids and --by; one line each; why names who; unack returns it to open."""
        rejection, lateness = listed(queue_options)
        ids = [str(rejection["id"]), str(lateness["id"])]
        acked = orderflow(*queue_options, "notifications", "ack", *ids, "--by", "ana")
        assert acked.returncode == 0, acked.stderr
        assert acked.stdout.splitlines() == [f"#{rejection['id']} vendor rejected TB9101-ACME: acknowledged by ana",
                                             f"#{lateness['id']} vendor late TB9102-ACME: acknowledged by ana"]
        why = orderflow(*queue_options, "notifications", "why", ids[0]).stdout
        assert "acknowledged by ana" in why
        assert "open -> acknowledged ana: acknowledged" in why
        undone = orderflow(*queue_options, "notifications", "unack", ids[0], "--format", "json")
        assert json.loads(undone.stdout) == [{"id": rejection["id"], "rule": "vendor_rejected",
                                              "subject": "TB9101-ACME", "state": "open", "changed": True,
                                              "note": "open again, nobody on it"}]
        assert [item["state"] for item in listed(queue_options)] == ["open", "acknowledged"]

    def test_a_repeat_changes_nothing_and_says_so(self, queue_options: list[str]) -> None:
        """A second ack of the same notification is a no-op with a note, and no second audit event."""
        rejection, _ = listed(queue_options)
        orderflow(*queue_options, "notifications", "ack", str(rejection["id"]), "--by", "ana")
        again = orderflow(*queue_options, "notifications", "ack", str(rejection["id"]), "--by", "bo")
        assert again.returncode == 0
        assert again.stdout.endswith("already acknowledged by ana; nothing changed\n")
        why = orderflow(*queue_options, "notifications", "why", str(rejection["id"])).stdout
        assert why.count("-> acknowledged") == 1
        assert "acknowledged -> acknowledged" not in why

    def test_the_actor_comes_from_orderflow_user(self, queue_options: list[str]) -> None:
        """Without --by, ORDERFLOW_USER names who acted (a shared login says nothing)."""
        rejection, _ = listed(queue_options)
        orderflow(*queue_options, "notifications", "ack", str(rejection["id"]), env={"ORDERFLOW_USER": "cy"})
        assert listed(queue_options)[0]["acked_by"] == "cy"

    def test_an_unknown_id_is_refused_and_the_others_done(self, queue_options: list[str]) -> None:
        """ack 999 <real>: one line naming 999, the real one acknowledged, exit 4."""
        rejection, _ = listed(queue_options)
        result = orderflow(*queue_options, "notifications", "ack", "999", str(rejection["id"]), "--by", "ana")
        assert result.returncode == ExitCode.INPUT_REFUSED
        assert result.stderr == "orderflow: no notification 999\n"
        assert listed(queue_options)[0]["state"] == "acknowledged"

    def test_snooze_until_a_day_means_its_start_in_the_shop_zone(self, queue_options: list[str]) -> None:
        """--until 2026-11-09 is midnight in New York (05:00 UTC), said in the shop's zone; unsnooze undoes it."""
        _, lateness = listed(queue_options)
        snoozed = orderflow(*queue_options, "notifications", "snooze", str(lateness["id"]), "--until", "2026-11-09",
                            "--by", "ana")
        assert snoozed.stdout == (f"#{lateness['id']} vendor late TB9102-ACME: snoozed until 2026-11-09 00:00 EST "
                                  "by ana\n")
        [item] = listed(queue_options, "--state", "snoozed")
        assert item["snoozed_until"] == "2026-11-09T05:00:00+00:00"
        orderflow(*queue_options, "notifications", "unsnooze", str(lateness["id"]))
        assert [item["state"] for item in listed(queue_options)] == ["open", "open"]

    def test_resolve_then_reopen(self, queue_options: list[str]) -> None:
        """reopen undoes a resolve by hand; reopening what is open changes nothing."""
        rejection, _ = listed(queue_options)
        number = str(rejection["id"])
        orderflow(*queue_options, "notifications", "resolve", number, "--note", "called them")
        assert len(listed(queue_options)) == 1
        reopened = orderflow(*queue_options, "notifications", "reopen", number, "--by", "ana")
        assert reopened.stdout.endswith("open again, reopened by ana\n")
        assert len(listed(queue_options)) == 2
        again = orderflow(*queue_options, "notifications", "reopen", number)
        assert again.stdout.endswith("is open, not resolved; nothing changed\n")

    def test_a_silence_hides_at_once_and_ending_it_shows_at_once(self, queue_options: list[str]) -> None:
        """No rules run in between: the silence hides its match now, and `silences end` shows it now."""
        made = orderflow(*queue_options, "notifications", "silence", "--match", "vendor=acme",
                         "--match", "rule=vendor_late", "--for", "2d", "--comment", "moving warehouses")
        assert made.returncode == 0, made.stderr
        assert [item["rule"] for item in listed(queue_options)] == ["vendor_rejected"]
        hidden = [item for item in listed(queue_options, "--all") if item["suppressed_by"]]
        assert [item["suppressed_by"] for item in hidden] == ["silence #1: moving warehouses"]
        ended = orderflow(*queue_options, "notifications", "silences", "end", "1", "--by", "ana")
        assert ended.returncode == 0, ended.stderr
        assert ended.stdout.endswith(": shows 1 notification again\n")
        assert [item["rule"] for item in listed(queue_options)] == ["vendor_rejected", "vendor_late"]
        assert orderflow(*queue_options, "notifications", "silences", "--format", "json").stdout == "[]\n"


class TestQueueTable:
    def test_lateness_shows_the_vendors_deadline_day_and_how_late(self) -> None:
        """A lateness row's due column is its deadline's day in the vendor's zone (23:59 Chicago is still
        Wednesday, though Thursday in New York) and how many business days late; the legend says so."""
        import io
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        from orderflow.cli import render

        document = {"id": 4, "rule": "vendor_late", "severity": "warning", "state": "acknowledged",
                    "order_number": "9102", "vendor": "ACME", "evidence": "no tracking",
                    "opened_at": datetime(2026, 11, 5, 15, tzinfo=UTC), "acked_by": "ana", "snoozed_until": None,
                    "suppressed_by": None, "due_at": "2026-11-05T05:59:00+00:00", "late_business_days": 1.25}
        view = render.QueueView(age=lambda _: 0.5, times=render.Times(ZoneInfo("America/New_York"),
                                                                      "America/New_York"),
                                order_url="https://shop/{order_number}",
                                vendor_zones={"ACME": ZoneInfo("America/Chicago")})
        buffer = io.StringIO()
        render.print_queue([document], view, out=render.console(file=buffer, width=80))
        lines = buffer.getvalue().splitlines()
        assert lines[1].split() == ["id", "sev", "age", "order", "vendor", "state", "due", "evidence"]
        assert lines[3].split() == ["4", "warn", "0.5bd", "9102", "ACME", "ack", "ana", "04", "Nov", "+1.2bd",
                                    "no", "tracking"]
        assert "due: the vendor's deadline day and how late" in " ".join(lines[-2:])
