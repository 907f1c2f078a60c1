"""Agreement prices, past prices and the tenant's quote approval threshold."""
