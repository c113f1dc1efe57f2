"""Poison inputs through ``orderflow sync``: hostile and broken items among good ones, run after run.

The pipeline world (tests/support/pipeline_world.py) gets its usual good orders and vendor answers, and beside them: an
order whose customer name carries CR/LF and a Bcc header, an order with no country, a vendor tracking file for
purchase orders nobody sent, a vendor file cut in half under a name with a line break, and a symbolic link to a
file outside the vendor's folder. Every good item must reach its end state (the world's verifier), every bad
one is refused once with its reason, and no run exits 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from orderflow.db.engine import session_factory
from orderflow.db.models import IngestedFile
from orderflow.errors import ExitCode
from tests.support.pipeline_world import SOURCE, TRACKING_HEADER, PipelineWorld, write_atomically
from tests.support.shop_with_vendors import HEADER

RUNS = 4
ENDINGS = (ExitCode.OK, ExitCode.INPUT_REFUSED, ExitCode.PARTIAL_FAILURE)


def poison_export() -> bytes:
    """Order 8001 (a customer name with CR/LF and a Bcc: a good order) and 8002 (no country: refused)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER.split(","), lineterminator="\n")
    writer.writeheader()
    for number, name, country in (("8001", "Evil\r\nBcc: thief@evil.example", "US"), ("8002", "Pat Doe", "")):
        writer.writerow({"Name": f"#{number}", "Email": "pat@example.com", "Billing Name": name,
                         "Financial Status": "paid", "Fulfillment Status": "unfulfilled",
                         "Created at": "2026-11-02 10:04:00 -0500", "Lineitem quantity": "2",
                         "Lineitem price": "25.00", "Lineitem sku": "SKU-ACME",
                         "Lineitem fulfillment status": "pending",
                         "Shipping Name": "Pat Doe", "Shipping Address1": "1 Main St", "Shipping City": "Portland",
                         "Shipping Zip": "04101", "Shipping Province": "ME", "Shipping Country": country})
    return out.getvalue().encode()


def poison(world: PipelineWorld) -> None:
    export = poison_export()
    write_atomically(world.root / "inbox" / "poison.csv", export)
    world.inbox_files.append(("poison.csv", hashlib.sha256(export).hexdigest()))
    world.orders["8001"] = ["SKU-ACME"]
    acme = world.vendors["ACME"]
    unknown = f"{TRACKING_HEADER}\nTB9999-ACME,1,ACME-1,2,UPS,Ground,1Z4R8W670312345676,2026-11-03\n".encode()
    write_atomically(acme.sub("from_vendor") / "unknown.csv", unknown)
    world.vendor_files.append(("ACME", "unknown.csv", hashlib.sha256(unknown).hexdigest()))
    write_atomically(acme.sub("from_vendor") / "cut\n.csv", b'po_number,line_number\n"TB7001-ACME,1\n')
    secret = world.root / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (acme.sub("from_vendor") / "passwd.csv").symlink_to(secret)


class TestPoisonSoak:
    def test_every_good_item_arrives_and_every_bad_one_is_refused_once(self, world: PipelineWorld) -> None:
        """Four syncs with poison among the good: none exits 1; each refusal is said in exactly one run; then the
        world settles and its verifier finds nothing wrong; the CR/LF name never became a header."""
        world.add_orders(3)
        poison(world)
        said: Counter[str] = Counter()
        for run in range(RUNS):
            if run == 1:
                world.add_orders(3)
            finished = world.run("sync")
            assert finished.returncode in ENDINGS, finished.stderr
            assert "Traceback" not in finished.stderr, finished.stderr
            for line in finished.stderr.splitlines():
                for mark in ("order 8002 has no country", "cut\\n.csv", "no vendor order 'TB9999-ACME'", "passwd"):
                    said[mark] += mark in line
            world.vendor_side()
            world.advance(timedelta(minutes=30))
        assert said == {"order 8002 has no country": 1, "cut\\n.csv": 1, "no vendor order 'TB9999-ACME'": 1,
                        "passwd": 0}
        world.settle()
        assert world.verify() == []
        acme = world.vendors["ACME"]
        assert (acme.sub("rejected") / "cut\n.csv").exists()
        assert (acme.sub("from_vendor") / "passwd.csv").is_symlink()
        with session_factory(world.engine)() as session:
            ledgered = sorted(session.scalars(select(IngestedFile.path).where(IngestedFile.origin == "vendor:ACME",
                                                                              IngestedFile.error.is_not(None))))
            assert ledgered == ["cut\n.csv"]
            assert session.scalar(select(IngestedFile.rows_refused).where(
                IngestedFile.origin == f"source:{SOURCE}", IngestedFile.path.endswith("poison.csv"))) == 1
        to_8001 = [mail for mail in world.smtp.received if "8001" in str(mail.message["Subject"])]
        assert [mail.recipients for mail in to_8001] == [("pat@example.com",)]
        assert to_8001[0].message["To"] == '"Evil Bcc: thief@evil.example" <pat@example.com>'
