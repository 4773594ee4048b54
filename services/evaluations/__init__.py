"""Evaluations: Accredited labs, evaluation plans, requests and results."""
