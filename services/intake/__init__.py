"""Intake: takes every filing, assigns registry ids, and answers public standing lookups."""
