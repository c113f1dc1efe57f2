"""The configured vendors, mirrored into the ``vendors`` table so orders, catalog rows and reports can refer to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderflow.config import Settings
from orderflow.db.models import Vendor


def sync_vendors(*, session: Session, settings: Settings, now: datetime) -> None:
    """Insert or update every configured vendor; a vendor no longer configured is kept but marked inactive."""
    stored = {vendor.code: vendor for vendor in session.scalars(select(Vendor))}
    for configured in settings.vendors:
        vendor = stored.pop(configured.code, None) or Vendor(code=configured.code)
        fields = {"name": configured.name, "kind": configured.kind, "format": configured.format,
                  "transport": configured.transport, "active": True}
        if vendor.updated_at is None or any(getattr(vendor, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(vendor, key, value)
            vendor.updated_at = now
            session.add(vendor)
    for leftover in stored.values():
        if leftover.active:
            leftover.active = False
            leftover.updated_at = now
