"""What the proxy and the sandbox share about the new API, at the bottom of the layering:
the messages crossing the transport seam, the seam itself, and what can go wrong."""
