"""Participatory budget, part 2: the vote, the count, the results and the realisation."""
