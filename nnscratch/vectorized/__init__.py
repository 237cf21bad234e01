"""Tier 2: the networks of the scalar tier as matrix operations through the backend ``xp``."""
