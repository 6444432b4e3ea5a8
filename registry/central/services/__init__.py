"""Every write of the central link, one module per subject: link (health checks and
outages), jobs (transmissions and card printing), stock (blank cards)."""
