"""Reading outside text: the one place that knows how vendors, carriers and storefronts write things.

- :mod:`~orderflow.parsing.text` — how outside text is quoted in a message (``shown``, ``named``).
- :mod:`~orderflow.parsing.values` — field values: quantities, money, currency codes, yes/no flags.
- :mod:`~orderflow.parsing.times` — times in every ISO 8601 offset form, compact X12/UPS digits, a date alone.
- :mod:`~orderflow.parsing.csv_rows` — CSV rows as a stream, each with the physical line where it starts.
- :mod:`~orderflow.parsing.json_shapes` — JSON that cannot crash a run, and shape checks naming the path.

Everything here is pure and sits under every parser: it imports nothing of orderflow but its errors. A bad
value is a ``ValueError`` whose text a person can act on; the parser that asked adds the file, line and field.
"""
