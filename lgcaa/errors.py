"""The one exception type for bad input.

Raised with a single line that names the offending file and the fix; the CLI prints it and exits 2.
"""


class UserError(Exception):
    """Bad input or missing prerequisite; the message names the file and how to fix it."""
