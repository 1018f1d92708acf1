"""The facts and inputs every layer reads: the config model, identifiers, safe reading of input,
names, and Kubernetes' own semantics."""
