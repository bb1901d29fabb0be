"""Rendering: Jinja2 text templates (text.py), infographics drawn with Pillow (infographic.py), media rules."""
