"""ModelPilot: a self-hosted, multi-tenant AI chatbot platform in one executable."""

__version__ = "0.1.0"
