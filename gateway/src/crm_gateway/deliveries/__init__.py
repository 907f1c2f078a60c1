"""Deliveries (配送): dispatch details, delivery photos and confirmations of orders."""
