"""The CloudModelService API: spec, status and condition vocabulary."""
