"""The operators' CLI for EvenToNight Functions (``python -m ops``, ``scripts/ops``): seed a demo data set through
the functions, show queue depths and outbox lag, list and replay dead letters. README, "Operating it"."""
