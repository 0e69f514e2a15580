"""The one error an importer raises: a single line naming the file and what is wrong."""


class PolicyImportError(ValueError):
    """A source policy cannot be imported; the message is one line that says why."""
