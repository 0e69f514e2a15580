"""``python -m memaug_train``: the memaug_train command, also as torchrun starts it
(``torchrun --nproc-per-node 2 -m memaug_train train ...``)."""

import sys

from memaug_train.cli import main

sys.exit(main())
