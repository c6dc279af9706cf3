"""Soak: the distributed pipeline on looped real clips for minutes or hours (see `cli`)."""
