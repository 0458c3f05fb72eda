"""``python -m usage_frames.cli``: the same as the ``usage-frames`` command."""

import sys

from usage_frames.cli import main

sys.exit(main())
