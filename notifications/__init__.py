"""Notifications: tell a project's channels (webhook, Slack, e-mail) how suite runs went.

`services` decides who hears about a finished run (the channel rules and failure streaks) and
records every delivery attempt; `message` says what they hear; `transports` is the only module
that talks to the outside (HTTP and SMTP); `tasks` delivers in the background with retries.
"""
