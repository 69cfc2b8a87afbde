"""`python -m cloudmodel_dev` is `cloudmodel-dev`."""

import sys

from cloudmodel_dev.cli import main

sys.exit(main())
