"""Who is calling: staff password login and its limits (``login.py``), password hashing and
the staff and device tokens (``security.py``), the caller behind a bearer token
(``principal.py``), a patient's device token (``devices.py``), and the login routes
(``api.py``). ``service.deps`` wires these into FastAPI's dependencies."""
