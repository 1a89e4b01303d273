from ft_ready_ext._speedups import answer

__all__ = ["answer"]
