"""The LINE adapter (docs/architecture.md, "The messaging port"; docs/operations.md, "LINE"):
channel.py (rendering and sending through line-bot-sdk), events.py (LINE's events as the handlers' updates),
server.py (the webhook and the pictures LINE fetches), quota.py (pushes counted and held near the monthly cap).
Only this package imports line-bot-sdk (tests/test_layout.py)."""
