"""Shifts, attendance events, daily records, rules, analytics and exports."""
