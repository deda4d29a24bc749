"""Run from memcli's checkout (its `make test` includes these) without installing the plugin."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
