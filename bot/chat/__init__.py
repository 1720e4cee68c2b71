"""The chat core: what every conversation surface shares, with no chat platform inside it.

It decides whether a message is a question, what a command means, what is recorded
(feedback, unanswered questions, subscriptions), and returns `Reply` values holding an
`Answer` or a short message. Slack and Teams only translate requests and render replies.
"""
