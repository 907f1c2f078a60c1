"""Test support for Keyuan services: real infrastructure fixtures (see `crmkit.testing.infra`)."""
