"""Thin Lambda handlers, one per state: parse the event, call one syncpurge function."""
