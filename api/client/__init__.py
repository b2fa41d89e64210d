"""`entrasync client`: a scripting client of the GraphQL API (HTTP and graphql-transport-ws)."""

from api.client.cli import amain, main

__all__ = ["amain", "main"]
