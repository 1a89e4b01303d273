import os

# Lets the tests see whether ftlint imported this package (the probe) or not
# (--no-import).
if os.environ.get("GIL_NEEDING_EXT_IMPORT_MARKER"):
    with open(os.environ["GIL_NEEDING_EXT_IMPORT_MARKER"], "a") as marker:
        marker.write("imported\n")

from gil_needing_ext._legacy import answer  # noqa: E402

__all__ = ["answer"]
