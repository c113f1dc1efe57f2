"""A vendor file is taken once the vendor's server shows it whole, whatever that server's clock says.

The shop's clock is fixed at Tuesday 3 November 2026, 19:30 UTC; the vendor ACME waits ``settle_seconds = 30``.
Files are written with the times the vendor's server would give them: three hours ahead of us for a server
whose clock runs fast, three hours behind for a slow one.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import VendorFileLook
from orderflow.vendors.fetch import fetch
from tests.support.fetch import shop
from tests.support.sample_shop import SAMPLES
from tests.support.shop_with_vendors import vendor_block

SETTLING_ACME = vendor_block("ACME", "x12", "local", path="acme", settle_seconds=30)
ASN = (SAMPLES / "x12_856_ship_notice.edi").read_bytes()
ACK = (SAMPLES / "x12_855_po_acknowledgment.edi").read_bytes()


def written(tmp_path: Path, name: str, content: bytes, server_time: datetime) -> Path:
    """A file in ACME's outbound folder, dated by the vendor's server."""
    path = tmp_path / "acme" / "from_vendor" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (server_time.timestamp(), server_time.timestamp()))
    return path


def taken(engine: Engine, settings: Settings, at: datetime) -> tuple[int, list[str]]:
    result = fetch(engine=engine, settings=settings, clock=Clock(fixed=at), vendor="ACME")
    return result.counts["files"], result.problems


class TestServerClockAhead:
    def test_a_whole_file_is_taken_on_the_second_look_not_hours_later(self, engine: Engine, clock: Clock,
                                                                      tmp_path: Path) -> None:
        """A server three hours fast: the file is taken 30 s after we first saw it, and the first run says
        the vendor's files are dated in our future."""
        settings = shop(tmp_path, engine, clock, SETTLING_ACME)
        now = clock.now()
        written(tmp_path, "asn.edi", ASN, now + timedelta(hours=3))
        files, problems = taken(engine, settings, now)
        assert files == 0
        assert problems == ["vendor ACME: 1 file(s) dated in our future, up to 3.0 h ahead ('asn.edi'): the "
                            "vendor's server clock is off; files are judged by the server's own times, so they "
                            "are still taken"]
        assert taken(engine, settings, now + timedelta(seconds=31))[0] == 1
        assert not (tmp_path / "acme" / "from_vendor" / "asn.edi").exists()

    def test_looks_closer_than_the_settle_time_wait(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """Two looks 10 s apart are not enough: the settle time runs between our own looks."""
        settings = shop(tmp_path, engine, clock, SETTLING_ACME)
        now = clock.now()
        written(tmp_path, "asn.edi", ASN, now + timedelta(hours=3))
        assert taken(engine, settings, now)[0] == 0
        assert taken(engine, settings, now + timedelta(seconds=10))[0] == 0
        assert taken(engine, settings, now + timedelta(seconds=40))[0] == 1


class TestStillGrowing:
    def test_a_file_that_changed_since_the_last_look_waits(self, engine: Engine, clock: Clock,
                                                           tmp_path: Path) -> None:
        """A server three hours slow makes a growing file look old; it is taken only once it stops changing."""
        settings = shop(tmp_path, engine, clock, SETTLING_ACME)
        now = clock.now()
        path = written(tmp_path, "asn.edi", ASN[:200], now - timedelta(hours=3))
        assert taken(engine, settings, now)[0] == 0
        written(tmp_path, "asn.edi", ASN, now - timedelta(hours=3) + timedelta(seconds=40))
        assert taken(engine, settings, now + timedelta(seconds=40))[0] == 0
        assert path.exists()
        assert taken(engine, settings, now + timedelta(seconds=80))[0] == 1

    def test_a_file_older_than_the_newest_is_whole(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """Vendors write one file after another: one older than the newest is taken at the first look; the
        newest waits for a second look."""
        settings = shop(tmp_path, engine, clock, SETTLING_ACME)
        now = clock.now()
        written(tmp_path, "1-asn.edi", ASN, now + timedelta(hours=3))
        written(tmp_path, "2-ack.edi", ACK, now + timedelta(hours=3, seconds=5))
        assert taken(engine, settings, now)[0] == 1
        assert not (tmp_path / "acme" / "from_vendor" / "1-asn.edi").exists()
        assert taken(engine, settings, now + timedelta(seconds=31))[0] == 1

    def test_what_was_taken_is_forgotten(self, engine: Engine, clock: Clock, tmp_path: Path) -> None:
        """Once a file has left the folder, nothing about it is kept."""
        settings = shop(tmp_path, engine, clock, SETTLING_ACME)
        now = clock.now()
        written(tmp_path, "asn.edi", ASN, now)
        taken(engine, settings, now)
        taken(engine, settings, now + timedelta(seconds=31))
        taken(engine, settings, now + timedelta(seconds=62))
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(VendorFileLook)) == 0
