"""The client's side: one-time check-in links, the before/after forms, and a safe way to speak up."""
