"""The local web page and JSON API behind `ketlit serve` (FastAPI + Jinja, all assets local)."""
