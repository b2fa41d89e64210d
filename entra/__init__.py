"""The Microsoft boundary: msal tokens, the Graph client, the token-cache cipher, their errors."""
