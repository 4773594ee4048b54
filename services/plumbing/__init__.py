"""Shared plumbing for every registry service: settings, database, outbox, inbox, telemetry, HTTP."""
