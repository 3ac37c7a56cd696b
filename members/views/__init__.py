"""HTML views of the members app, one module per area (URLs in members/urls.py)."""
