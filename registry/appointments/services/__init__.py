"""Every write of the appointments app, one module per subject: slots, requirements,
bookings, attendance, booking_documents, closures, sweeps (and notices, the texts they
share). One function per operation, one transaction."""
