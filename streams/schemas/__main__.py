"""``python -m streams.schemas``: regenerate the committed JSON Schema files."""

import sys

from streams.schemas import main

sys.exit(main())
