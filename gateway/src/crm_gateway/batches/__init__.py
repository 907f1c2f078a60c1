"""Batch recall (批次追溯) at the gateway: lookup with contacts, recalls and owners' notifications."""
