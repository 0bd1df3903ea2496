"""The contract suite: one module per contract area."""
