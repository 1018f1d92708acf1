"""`python -m migrate`: render, diff and check migration phases offline, from the stack files alone.

Everything here reuses the pure core in `components` (config model, desired state, schemas, scheduling),
so what it shows is exactly what the Pulumi program registers."""
