"""Presentation layer: the one French formatter (`text`), labels, figures and notebook display."""
