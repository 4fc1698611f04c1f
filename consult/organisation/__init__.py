"""The organisation running the service: its name, and (through consult.strategy) its municipalities."""
