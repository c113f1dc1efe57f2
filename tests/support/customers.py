"""A shop that tells its customers by email, and reading what it sent."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from orderflow.config import Settings
from orderflow.testing.smtp import SmtpServer
from tests.support.shop_with_vendors import vendor_block, write_settings


def shop(folder: Path, smtp: SmtpServer, customers: str = "") -> Settings:
    """A shop whose customer emails go to ``smtp``; ``customers`` adds keys (and tables) to ``[customers]``."""
    return write_settings(folder, vendor_block("ACME", "csv", "local", path="acme"),
                          vendor_block("STITCH", "csv", "local", path="stitch"), f"""
[email]
host = "{smtp.host}"
port = {smtp.port}
starttls = false
sender = "ops@teebarn.example"
reply_to = "help@teebarn.example"
shop_name = "Tee Barn"
[customers]
sender = "Tee Barn <hello@teebarn.example>"
{customers}
""")


def text_of(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]
