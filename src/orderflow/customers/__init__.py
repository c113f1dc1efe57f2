"""Telling customers their parcels are on the way: once per parcel, by email or through the storefront.

- :mod:`~orderflow.customers.selection`: which parcels are due (the policy) and what their notice says;
- :mod:`~orderflow.customers.messages`: the email from Jinja2 templates a shop can replace, the storefront's JSON;
- :mod:`~orderflow.customers.notify`: :func:`~orderflow.customers.notify.notify_customers`, decide and deliver.
"""
