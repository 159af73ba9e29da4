"""Entry point of the PyInstaller binary: `dist/modelpilot [COMMAND] [--flags]`.

Kept outside the `modelpilot/` package so PyInstaller's analysis does not put the package
directory itself on the module path (which would make `app`, `settings`... importable as
top-level names).
"""

import multiprocessing
import os
import sys

# LiteLLM fetches its price map from the internet at import unless this is exactly "true";
# the binary must never reach the network on its own, whoever imports litellm first.
os.environ["LITELLM_OFFLINE_MODE"] = "true"
# onnxruntime sends usage telemetry to Microsoft when a session starts unless this is set.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from modelpilot.cli import main

    sys.exit(main())
