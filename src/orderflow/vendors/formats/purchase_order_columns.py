"""The columns a CSV purchase order can have. The settings check each vendor's ``csv_columns`` against them
when they load, so they live apart from the writer, which every command would otherwise import."""

PO_CSV_COLUMNS = (
    "po_number", "order_number", "order_date", "requested_ship_date", "line_number", "sku", "vendor_sku", "upc",
    "description", "quantity", "unit_price", "ship_name", "ship_company", "ship_address1", "ship_address2",
    "ship_city", "ship_state", "ship_zip", "ship_country", "ship_phone", "customer_email",
)
"""``csv_columns`` picks and orders them per vendor."""
