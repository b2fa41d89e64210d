"""Security: the API under attack (issue 7)."""
