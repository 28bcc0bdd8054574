"""Local stub servers on 127.0.0.1 that speak the real wire formats of outside services."""
