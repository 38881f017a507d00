"""``python -m lib``: see lib.cli."""

from lib.cli import entry

entry()
