"""The bot's own state: definition history, subscriptions, the notification outbox, feedback."""
