"""X12 interchange control numbers: one running number per trading partner, never reused."""

from __future__ import annotations

from sqlalchemy import Engine

from orderflow.db.engine import session_factory
from orderflow.db.models import ControlNumber
from orderflow.db.rows import locked_row


def next_control_number(engine: Engine, partner: str) -> int:
    """The next X12 interchange control number for ``partner``, committed before use so it is never reused."""
    with session_factory(engine)() as session, session.begin():
        row = locked_row(session, ControlNumber, ControlNumber.partner, partner, last_value=0)
        row.last_value = row.last_value % 999_999_999 + 1
        return row.last_value
