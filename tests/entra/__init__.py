"""Tests of the Microsoft boundary."""
