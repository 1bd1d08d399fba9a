"""``python -m provider_store.testing``: see :mod:`provider_store.testing.command_line`."""

import sys

from provider_store.testing.command_line import main

sys.exit(main())
