"""Each role's own space: dashboard, agent, counter, council, bienveilleur, coordination."""
