"""Cross-cutting pieces: secrets, encrypted fields, request ids, audit context."""
