"""Entry points: `python pipelines/asana_to_docspace.py`, `python pipelines/trello_to_docspace.py`."""
