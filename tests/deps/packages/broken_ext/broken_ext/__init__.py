"""Its _native.so is deliberately not a shared library."""
