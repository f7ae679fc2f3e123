"""Provider sync: one module per provider with pure request-building and page-parsing steps."""
