"""Interconnection with peer platforms (互联互通): peers, their feeds, registry and re-publication."""
