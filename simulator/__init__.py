"""Local stand-in for Microsoft's Entra v2.0 login and Graph v1.0 endpoints (tests, demo, benchmarks)."""
