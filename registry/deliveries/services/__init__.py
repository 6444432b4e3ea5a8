"""Every write of hand-over and home delivery, one module per subject: handovers (the
resident's choice, pick-up at the counter), dispatch (the morning dispatch to
couriers), couriers (at the door, and a supervisor's reopening). One function per
operation, one transaction each, each on the case timeline."""
