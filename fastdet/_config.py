"""Plain constants shared by wrappers and tests (kernels receive values as arguments)."""

#: Largest number of float64 elements one dense result (IoU matrix, mask) may hold
#: before the wrapper refuses with a clear error instead of exhausting memory.
MAX_DENSE_ELEMENTS = 2_000_000_000 // 8

#: Tolerance used when tests compare fastdet with a peer library in floating point.
TEST_RTOL = 1e-12
