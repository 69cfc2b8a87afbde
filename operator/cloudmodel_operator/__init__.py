"""Mirror model services on Chinese clouds into Kubernetes `CloudModelService` status."""

__version__ = "0.1.0"
