"""Every write of complaints: one function per operation, one transaction each, each
on the case timeline when the complaint is linked to a case. By subject:

- intake: a complaint logged by staff or filed by a resident, and the post's identity
  (source_key).
- handling: linking to the resident and the case, assigning, classifying,
  attachments; the complaint's lock and who handles it.
- deadlines: deadlines by the office's complaint settings, waiting for the complainant
  and resuming, the deadline sweep and the staff alerts.
- responses: response templates (seeding, rendering); acknowledging, responding and
  resolving.
- chronology: the chronology (generate, edit, publish) and findings.
- follow_ups: staff follow-up, for supervisors.

Callers import what they use from the module of its subject.
"""
