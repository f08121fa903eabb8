"""Weight files: the manifest (what, where from, which digest), offline producers and the fetch/verify manager."""
