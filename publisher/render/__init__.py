"""Rendering: Jinja2 text templates now; infographics later (one module per kind)."""
