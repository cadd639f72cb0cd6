"""Readings: what patients' apps and clinicians post, and what the pathway makes of them.

``api.py`` the routes; ``fast.py`` the one-pass handler of the busiest one, a patient's own
post; ``answers.py`` what the routes answer; ``service.py`` the use cases (validation, unit
conversion, idempotent ingest); ``repository.py`` their queries; ``evaluation.py`` the pathway
run over a patient's history and the alerts it raises; ``units.py`` conversions and plausible
ranges; ``schemas.py`` the request and answer models.
"""
