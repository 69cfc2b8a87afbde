"""Development tools for cloudmodel-operator: the provider simulator and the local sandbox.

Not part of the product image: `pip install ./devtools` (or `make setup`) installs them next to
the operator for tests, benchmarks and `make sandbox`.
"""
