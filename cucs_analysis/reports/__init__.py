"""Reports layer: the question registry, the region stage and one report per question."""
