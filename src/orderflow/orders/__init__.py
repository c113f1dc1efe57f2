"""Orders from the storefront: intake sources and parsers, and routing to vendors."""
