"""The pathway as the service runs it: the rules and thresholds in force, by default or at a site
(``api.py``), and ``mhf pathway evaluate`` (``cli.py``), which replays synthetic, file or stored
readings (``from_db.py``: each site's patients as the live service judges them) through the pure
``pathway`` package."""
