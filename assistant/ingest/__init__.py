"""Reading files into Documents, finding the minutes' structure, and ingesting into the index."""
