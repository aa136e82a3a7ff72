"""What a workspace holds: stage files, settings, people, acknowledgements, the history as read, and the caches."""
