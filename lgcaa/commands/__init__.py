"""Thin CLI sub-commands: each only unpacks arguments and calls tested functions."""
