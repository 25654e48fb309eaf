"""Communes, quartiers, city services and conseils citoyens (the territory)."""
