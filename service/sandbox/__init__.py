"""Wire-level provider simulators, for dev mode, the API tests and the benchmarks."""

__all__ = ["bizon"]
