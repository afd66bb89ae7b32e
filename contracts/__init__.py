"""Clause library and agreement rendering, free of any web framework."""
