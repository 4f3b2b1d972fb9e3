"""HTTP API (FastAPI). Nothing else imports this package."""
