"""A researcher's own rule module, as a scenario would name it by dotted path: this rule raises."""


def explode(*args, **kwargs):
    raise RuntimeError("test rule exploded on purpose")
