"""Local fakes of the integrations' services (real HTTP on 127.0.0.1), per research/integrations.md."""
