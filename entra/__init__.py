"""entra package."""
