"""Every write of the registry core, one module per subject: offices, staff, residents,
cases (applications and their timeline), notifications, sequences (and bulk_sql, the
set-based writing they share). One function per operation, each in one transaction,
each recording the case event it causes."""
