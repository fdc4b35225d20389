"""Plain constants shared by the wrappers (kernels take values as arguments; tolerances live in tests)."""

#: Largest number of float64 elements one dense result (IoU matrix, mask) may hold
#: before the wrapper refuses with a clear error instead of exhausting memory.
MAX_DENSE_ELEMENTS = 2_000_000_000 // 8
