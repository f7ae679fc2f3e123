"""Real-HTTP fake provider servers for tests."""
