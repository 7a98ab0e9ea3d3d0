"""MkDocs hooks: the generated reference pages (filled in from the code at build time)."""
