"""BECMI VTT real-time server."""
