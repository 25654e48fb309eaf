"""Conseils citoyens: collèges and members, sortition, meetings, avis on the action plan."""
