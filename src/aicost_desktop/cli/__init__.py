"""The `aicost` command: thin argument parsing over the core services."""
