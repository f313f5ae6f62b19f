"""klaviyo-legacy-proxy: serve Klaviyo's retired v1/v2 API on top of the current JSON:API."""

__version__ = "0.1.0"
