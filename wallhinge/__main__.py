"""``python -m wallhinge``: the ``wallhinge`` command."""

import sys

from wallhinge.cli import main

sys.exit(main())
