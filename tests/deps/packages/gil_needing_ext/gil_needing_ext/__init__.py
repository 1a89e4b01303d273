from gil_needing_ext._legacy import answer

__all__ = ["answer"]
