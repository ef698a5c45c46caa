"""Pricing: unit prices (Price List, Spot history, an offline snapshot) and the rules that turn what a
launch consumed into money.

* ``pricing.engine``: the rules as pure functions over ``Decimal`` (the reference; no AWS, no I/O).
* ``pricing.bulk``: the same rules as one DuckDB statement over ``launch_resources`` + ``prices``.
* ``pricing.pricelist``: GetProducts / DescribeSpotPriceHistory requests and response parsers.
* ``pricing.snapshot``: the offline list-price snapshot shipped in ``pricing/snapshot/``.
"""
