"""``python -m thetagym.cli``: the thetagym command."""

from thetagym.cli import main

main()
