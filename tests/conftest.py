import sys
from pathlib import Path

# Test helpers (loopback servers, test engines) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
