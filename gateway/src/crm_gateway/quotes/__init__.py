"""Quotes (报价单) over REST."""
