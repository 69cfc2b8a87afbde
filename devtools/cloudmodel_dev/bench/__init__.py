"""`cloudmodel-dev bench`: the operator measured against the API server's raw limit and a plain-Kopf peer.

Everything runs on loopback: the local control plane, the provider simulator (signatures
checked) as its own process, the operator as its own process (`cloudmodel run`), so that every
CPU second and byte of memory in the table belongs to the process it is reported for.
See docs/performance.md for what each row means and how to reproduce it.
"""
