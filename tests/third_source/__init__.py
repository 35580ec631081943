"""A minimal third source, defined only here: the seam between sources and the destination."""
