"""One module per evaluative question: everything its notebook shows, computed and narrated."""
