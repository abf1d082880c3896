"""Songs arranged from real recordings with exactly known sections (see `arrange`)."""
