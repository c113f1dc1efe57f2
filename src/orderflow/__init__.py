"""orderflow: multi-vendor e-commerce fulfilment run from cron."""

__version__ = "0.1.0"
