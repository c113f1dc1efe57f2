"""What late means, shared by the rules that raise lateness and the reports that count it, so the two never
disagree about the same vendor order or parcel."""

from __future__ import annotations

from orderflow.db.models import VendorOrderState as S

# The vendor has the order and nothing else explains a delay: before it is sent the delay is ours
# (dispatch_failed), and on hold it waits for us (vendor_on_hold).
LATE_STATES = (S.SENT, S.ACCEPTED, S.PARTIALLY_SHIPPED, S.SHIPPED)

NOT_SCANNED_AFTER_BUSINESS_DAYS = 2.0
"""Business days from a parcel's label (the vendor's ship date) to the carrier's first scan, past which the
parcel counts as not scanned."""
