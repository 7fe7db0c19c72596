"""The applications that stand on the refinery: one package each (news, listings, options)."""
