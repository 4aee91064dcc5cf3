"""``python -m thetagym``: the thetagym command."""

from thetagym.cli import main

main()
