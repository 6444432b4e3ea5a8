"""Every write of the queues, one module per subject: counters, issuing, calling,
notices (what residents are told, and bookings finished), closing (the end of the
day), board (its cache and each ticket's history). One function per operation, one
transaction each. Each step of a ticket writes its history (TicketEvent) and, once the
resident is known, the case timeline; the display board's cache is dropped when the
step commits. Locks: see queues.lock_objects (the counter, then the ticket)."""
