"""The ``zhibiao`` command: a thin layer over engine/ and loaders/."""
