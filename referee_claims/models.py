# Models arrive with their issue; the app is in place so that the layout and dependencies
# described in ARCHITECTURE.md hold from the start.
