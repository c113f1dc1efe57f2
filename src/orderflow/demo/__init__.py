"""``orderflow demo``: a complete simulated business on an embedded SQLite database, scored against its truth.

- :mod:`~orderflow.demo.world`: the shop, its vendors and catalog, and every order planned with its fate;
- :mod:`~orderflow.demo.vendors`: the vendors' side (X12 and CSV files, fake Printful APIs);
- :mod:`~orderflow.demo.carriers`: tracking numbers, parcels' journeys, the four fake carrier APIs;
- :mod:`~orderflow.demo.files`: the shop's ``orderflow.toml``, catalog and storefront exports;
- :mod:`~orderflow.demo.run`: the week, hour by hour, running the real ``sync``;
- :mod:`~orderflow.demo.scoring`: what the queue should hold, and precision and recall against it.
"""

from orderflow.demo.run import DemoOptions, DemoResult, run_demo

__all__ = ["DemoOptions", "DemoResult", "run_demo"]
