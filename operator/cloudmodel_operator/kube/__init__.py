"""Everything that talks to the Kubernetes API (status writes, Secrets, Events)."""
