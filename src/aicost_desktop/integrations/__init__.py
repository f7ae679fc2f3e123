"""Integrations: specs of the services alerts and reports go to, their clients, OAuth, signatures (no Qt)."""
