"""Tests of the sync engine's pure decision core."""
