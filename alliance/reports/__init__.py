"""Printable documents (termination summaries, supervision summaries) rendered to PDF with Typst."""
