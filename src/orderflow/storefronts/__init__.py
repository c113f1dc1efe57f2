"""Orders from the storefront: the parsers of its exports and order JSON, inboxes and its order API, and the
import job that stores what they read. Beside vendor intake (:mod:`orderflow.vendors`), above the order domain."""
