"""Outbound webhooks (Standard Webhooks): endpoints, the delivery outbox and its worker.
Not to be confused with billing/webhooks.py, Stripe's inbound webhook."""
