"""The staff queue's read path: the columns it names match the model, it stays light, and the public holidays
it counts ages with are remembered between runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, Engine, select

from orderflow import public_holidays as holidays_module
from orderflow.db.engine import session_factory
from orderflow.db.models import Notification, NotificationState
from orderflow.db.types import UTCDateTime
from orderflow.errors import ConfigError
from orderflow.public_holidays import public_holidays
from orderflow.rules.listing import (
    NOTIFICATION_STATES,
    NOTIFICATIONS,
    Listed,
    QueueFilter,
    as_document,
    queue_documents,
    queue_shown,
    sort_key,
)


class TestListedColumns:
    def test_the_listing_names_the_models_columns_with_their_types(self) -> None:
        """Every column the queue reads is a column of ``notifications`` with the same kind of type, so the read
        without the ORM models sees what the models write."""
        model = Notification.__table__.c
        assert [column.name for column in NOTIFICATIONS.c] == list(Listed.__annotations__)
        for column in NOTIFICATIONS.c:
            assert column.name in model, column.name
            for kind in (UTCDateTime, JSON):
                assert isinstance(column.type, kind) == isinstance(model[column.name].type, kind), column.name

    def test_every_state_is_listed(self) -> None:
        """``--state all`` covers every state a notification can be in."""
        assert tuple(state.value for state in NotificationState) == NOTIFICATION_STATES


class TestListedValues:
    def test_the_queue_reads_what_the_models_read(self, engine: Engine) -> None:
        """Times and labels, read as stored and converted by the listing itself, are what the models read: UTC
        times to the microsecond, missing ones missing, labels as written; every state, in the same order."""
        at = datetime(2026, 11, 3, 18, 4, 5, 123456, tzinfo=UTC)
        full = Notification(fingerprint="a" * 64, rule="vendor_late", severity="high", subject_type="vendor_order",
                            subject_id="TB1001-ACME", order_number="1001", vendor_code="ACME",
                            vendor_order_id="TB1001-ACME", tracking_number="1Z5R89390357567127", carrier="ups",
                            labels={"due_at": "2026-11-02T22:00:00+00:00", "late_business_days": "1.5"},
                            evidence="no ship confirmation", state=NotificationState.ACKNOWLEDGED, opened_at=at,
                            last_seen_at=at + timedelta(hours=1), acked_by="pat", acked_at=at,
                            snoozed_until=at + timedelta(days=1), resolved_at=at + timedelta(days=2),
                            pushed_at=at + timedelta(seconds=1), suppressed_by="silence:3")
        bare = Notification(fingerprint="b" * 64, rule="customer_not_notified", severity="warning",
                            subject_type="shipment", subject_id="7", state=NotificationState.OPEN)
        with session_factory(engine)() as session, session.begin():
            session.add_all([full, bare])
        with session_factory(engine)() as session:
            expected = sorted(map(as_document, session.scalars(select(Notification))), key=sort_key("type"))
        with engine.connect() as connection:
            listed = queue_documents(connection, filters=QueueFilter(state="all", include_hidden=True))
        assert listed == expected
        assert (listed[0]["opened_at"], listed[0]["late_business_days"]) == (at, 1.5)


class TestTheTablesRead:
    @pytest.mark.parametrize("sort", ["type", "severity", "age", "vendor"])
    def test_the_drawn_rows_are_whole_and_the_rest_ranked_alike(self, engine: Engine, sort: str) -> None:
        """The table's read ranks every notification as the whole read does, and the rows it draws (the first
        ``per_type`` of each run of one type) are the whole read's documents; the others carry what ranking
        and the summary read."""
        start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        rules = ["vendor_late", "customer_not_notified", "tracking_stalled"]
        with session_factory(engine)() as session, session.begin():
            session.add_all(
                Notification(fingerprint=f"{index:064x}", rule=rules[index % 3],
                             severity=("critical", "high", "warning", "info")[index % 4],
                             subject_type="vendor_order", subject_id=f"TB{index}-ACME", order_number=str(index),
                             vendor_code=("ACME", "BOLT", None)[index % 3 - 1], evidence=f"evidence {index}",
                             labels={"due_at": "2026-11-02T22:00:00+00:00", "late_business_days": "1.5"},
                             state=NotificationState.OPEN, opened_at=start + timedelta(minutes=7 * (index % 11)))
                for index in range(40))
        with engine.connect() as connection:
            whole = queue_documents(connection, sort=sort)
            shown = queue_shown(connection, sort=sort, per_type=3)
            assert queue_shown(connection, sort=sort, per_type=0) == whole
        assert [document["id"] for document in shown] == [document["id"] for document in whole]
        drawn = {document["id"] for document in shown if "evidence" in document}
        seen: dict[int, int] = {}
        for index, document in enumerate(whole):
            first_of_run = index == 0 or whole[index - 1]["rule"] != document["rule"]
            seen[index] = 0 if first_of_run else seen[index - 1] + 1
            if seen[index] < 3:
                assert shown[index] == document
            else:
                assert document["id"] not in drawn
                assert shown[index] == {key: document[key] for key in ("id", "rule", "severity", "vendor",
                                                                       "opened_at")}
        if sort == "type":
            assert len(drawn) == 3 * len(rules)


class TestQueuePathStaysLight:
    def test_the_queue_imports_neither_the_orm_nor_the_holidays_package(self, engine: Engine, database_url: str,
                                                                        tmp_path: Path) -> None:
        """``orderflow notifications`` reads plain rows: neither the ORM models, nor pandas, paramiko, httpx or
        alembic are imported, and the holidays package only until its answer is remembered."""
        config = tmp_path / "orderflow.toml"
        config.write_text('po_prefix = "TB"\n')
        probe = (
            "import sys\nfrom orderflow.cli.main import main\n"
            f"sys.argv = ['orderflow', '--config', {str(config)!r}, '--db', {database_url!r}, "
            "'--now', '2026-11-03T18:00:00Z', 'notifications']\n"
            "try:\n    main()\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
            "heavy = ('orderflow.db.models', 'sqlalchemy.orm', 'pandas', 'paramiko', 'httpx', 'alembic', 'holidays')\n"
            "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)"
        )
        env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state")}
        runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                               env={**os.environ, **env}) for _ in range(2)]
        assert runs[0].stderr.strip() == "['holidays']", "the first run asks the package"
        assert runs[1].stderr.strip() == "[]"
        assert "Nothing needs a person right now." in runs[1].stdout


class TestPublicHolidays:
    @pytest.fixture(autouse=True)
    def cache_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        return tmp_path / "cache"

    def test_a_years_holidays_are_remembered_and_read_back(self, cache_home: Path) -> None:
        """The first answer comes from the package and is kept; the next is read from what was kept."""
        first = public_holidays("US", None, 2026)
        assert date(2026, 11, 26) in first  # Thanksgiving
        [kept] = (cache_home / "orderflow").glob("public-holidays-*.json")
        document = json.loads(kept.read_text())
        document["years"]["US//2026"] = ["2026-06-15"]  # what is kept is what is answered
        kept.write_text(json.dumps(document))
        assert public_holidays("US", None, 2026) == frozenset({date(2026, 6, 15)})

    def test_another_copy_of_the_package_starts_afresh(self, cache_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        """What one installed copy answered is not taken for another's: an upgrade may have fixed a holiday."""
        public_holidays("US", None, 2026)
        [kept] = (cache_home / "orderflow").glob("public-holidays-*.json")
        document = json.loads(kept.read_text())
        document["years"]["US//2026"] = ["2026-06-15"]
        kept.write_text(json.dumps(document))
        monkeypatch.setattr(holidays_module, "_installed_package", lambda: "another copy")
        assert date(2026, 11, 26) in public_holidays("US", None, 2026)

    def test_a_broken_file_means_asking_again(self, cache_home: Path) -> None:
        """A kept file that is not JSON, or holds no dates, is ignored rather than trusted."""
        public_holidays("US", None, 2026)
        [kept] = (cache_home / "orderflow").glob("public-holidays-*.json")
        kept.write_text("{not json")
        assert date(2026, 11, 26) in public_holidays("US", None, 2026)
        document = json.loads(kept.read_text())
        document["years"]["US//2026"] = ["not a day"]
        kept.write_text(json.dumps(document))
        assert date(2026, 11, 26) in public_holidays("US", None, 2026)

    def test_an_unknown_country_is_a_config_error_and_not_kept(self, cache_home: Path) -> None:
        """A misspelt country is refused by name, and nothing is remembered for it."""
        with pytest.raises(ConfigError, match="XX"):
            public_holidays("XX", None, 2026)
        assert not list((cache_home / "orderflow").glob("public-holidays-*.json"))

    def test_a_cache_that_cannot_be_written_still_answers(self, cache_home: Path) -> None:
        """A home folder that cannot be written only loses the speed-up."""
        cache_home.write_text("a file where the folder should be")
        assert date(2026, 11, 26) in public_holidays("US", None, 2026)
