"""The web front: server-rendered pages (Jinja2) in Italian and English, assets served by the app."""
