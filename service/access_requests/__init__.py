"""Access asked for and given: a request to read one site's report or one value framework, the
decision of an admin or programme lead, and the grant the read paths check (``grants``)."""
