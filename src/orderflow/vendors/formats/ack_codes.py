"""The X12 line acknowledgement codes (ACK01), which vendors echo in CSV answers too.

One table for both readers, so a code means the same whether it comes in an 855 or in a vendor's CSV file.
"""

from __future__ import annotations

from orderflow.vendors.records import LineAckStatus

# ACK01 (X12 element 668): the vendor's verdict on one line, every code of the 4010 list. A line on hold or
# with a price or date still pending is "changed", so a person looks at it.
LINE_ACK_CODES: dict[str, tuple[LineAckStatus, str]] = {
    "AC": ("accepted", "Item accepted and shipped"),
    "AR": ("accepted", "Item accepted and released for shipment"),
    "BP": ("backordered", "Item accepted, partial shipment, balance backordered"),
    "DR": ("changed", "Item accepted, date rescheduled"),
    "IA": ("accepted", "Item accepted"),
    "IB": ("backordered", "Item backordered"),
    "IC": ("changed", "Item accepted, changes made"),
    "ID": ("rejected", "Item deleted"),
    "IE": ("changed", "Item accepted, price pending"),
    "IF": ("changed", "Item on hold, incomplete description"),
    "IH": ("changed", "Item on hold"),
    "IP": ("changed", "Item accepted, price changed"),
    "IQ": ("changed", "Item accepted, quantity changed"),
    "IR": ("rejected", "Item rejected"),
    "IS": ("changed", "Item accepted, substitution made"),
    "IW": ("changed", "Item on hold, waiver required"),
    "R1": ("rejected", "Item rejected, not a contract item"),
    "R2": ("rejected", "Item rejected, invalid item product number"),
    "R3": ("rejected", "Item rejected, invalid unit of issue"),
    "R4": ("rejected", "Item rejected, contract item not available"),
    "R5": ("rejected", "Item rejected, reorder item as a just in time order"),
    "R6": ("rejected", "Item rejected, reorder item as an extended delivery order"),
    "R7": ("rejected", "Item rejected, reorder item as a drop shipment"),
    "R8": ("rejected", "Item rejected, reorder item as a Marine Corps order"),
    "SP": ("changed", "Item accepted, schedule date pending"),
}
