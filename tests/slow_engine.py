"""An engine that costs a fixed time per call (Apertium underneath): workers and their kill tests need one.

Where ``SLOW_ENGINE_MARKS`` names a folder, each call leaves ``translating-<pid>`` there while it runs,
so a test can kill a worker in the middle of a translation.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from samachar.translate.engines.apertium import ApertiumEngine


class SlowApertium(ApertiumEngine):
    name = "slow-apertium"
    seconds_per_call = float(os.environ.get("SLOW_ENGINE_SECONDS", "0.5"))

    def translate(self, segments, source, target):
        marks = os.environ.get("SLOW_ENGINE_MARKS")
        mark = Path(marks) / f"translating-{os.getpid()}" if marks else None
        if mark:
            mark.touch()
        try:
            time.sleep(self.seconds_per_call)
            return super().translate(segments, source, target)
        finally:
            if mark:
                mark.unlink(missing_ok=True)
