"""Participatory budget: campaigns and residents' proposals."""
