"""Feasibility review of budget proposals by the city services."""
