"""Every write of this app: one function per operation, one transaction."""
