"""Everything that reaches the web: the SSRF guard, the image downloader and the DuckDuckGo image search."""
