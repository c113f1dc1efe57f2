"""The order domain: orders as records, routing to vendors, the lifecycle roll-up, and the order view.

Vendors and carriers build on it; storefront intake (:mod:`orderflow.storefronts`) fills it.
"""
