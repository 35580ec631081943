"""A minimal third source, defined only here: the seam between sources and the product.

Laid out as a source package is (CONTRIBUTING.md, "Adding a source"): the mapping SQL, a dlt
source, a change detector, a link writer and `DOCSPACE_SPEC`. It lives under `tests/`, so the
registry does not list it; the tests hand its spec to the product directly.
"""

from tests.third_source.docspace_spec import DOCSPACE_SPEC

__all__ = ["DOCSPACE_SPEC"]
