"""The JSON API (DRF): thin APIViews that translate, call a selector or service, and reply (routes: api_urls.py)."""
