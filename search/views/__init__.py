"""HTML views by domain: search sessions, image files, web fetch. They translate, call a service or a selector,
and render; nothing else."""
