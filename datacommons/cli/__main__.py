"""``python -m datacommons.cli``."""

from datacommons.cli import main

main()
