"""The WSGI entry point gunicorn serves: ``gunicorn wsgi:app``."""

from factory import create_app

app = create_app()
