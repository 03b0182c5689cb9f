"""BECMI game rules as pure functions: no I/O, randomness only through an injected ``random.Random``."""
