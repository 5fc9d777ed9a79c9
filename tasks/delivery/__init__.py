"""Delivery of messages and documents through real channels (SMTP email, Teams/Slack webhooks via
apprise) or, without a channel, to an outbox folder; each delivery recorded exactly once."""
