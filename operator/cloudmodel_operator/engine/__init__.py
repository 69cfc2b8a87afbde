"""The engine: from a watched object to a written status.

watch event -> store (one small record per resource) -> delay queue (one entry per resource,
due times) -> a bounded set of workers -> one pass (credentials, budget, fetch under a deadline,
map, build, diff against what the watch shows, write only if different) -> events and metrics.
"""
