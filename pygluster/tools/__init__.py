"""Tools built on the client: ``doctor`` (is this volume healthy for images?)
and ``bench`` (pygluster against libgfapi, side by side)."""
