"""Visits (拜访签到): a visit follow-up's check-in, photos and distance to the customer."""
