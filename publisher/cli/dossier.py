"""``publisher dossier``: placeholder, filled in by issue 7."""

COMMANDS: list = []
