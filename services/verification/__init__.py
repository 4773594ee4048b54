"""Verification: Independent estimates of declared training compute, tiers and discrepancies."""
