"""Public pages: home, sections, language, accessibility and privacy statements."""
