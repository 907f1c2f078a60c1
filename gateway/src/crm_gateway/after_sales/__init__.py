"""After-sales (售后) over REST."""
