"""Modal dialogs: About, Settings."""
