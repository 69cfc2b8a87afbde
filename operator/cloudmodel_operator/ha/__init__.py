"""Replicas: leader election and sharding on coordination.k8s.io/v1 Leases."""
