"""Plans, quotas and Stripe billing."""
