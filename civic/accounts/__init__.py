"""Accounts: residents and staff, roles, verification, assisted participation."""
