"""Enforcement: Rules, cases, actions and penalties; the officers' case desk."""
