import sys

from samachar.cli import main

sys.exit(main())
