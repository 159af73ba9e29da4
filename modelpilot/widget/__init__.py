"""The embeddable widget: its build, static serving and the public /api/v1/widget routes."""
