"""Errors a user can fix, as opposed to bugs.

`UserError` and its subclasses print as a single line naming the file, the key and what was
expected; the CLI turns them into exit status 2. `InvariantViolation` is not a user error:
it means the accounting broke and the run must stop.
"""


class UserError(Exception):
    """A problem with the user's input: one line, no traceback."""


class ScenarioError(UserError):
    """A scenario file (or a --set override) is missing, malformed or invalid."""


class ExperimentError(UserError):
    """An experiment file or a results folder is missing, malformed, foreign or damaged."""


class InvariantViolation(RuntimeError):
    """The books do not balance: raised with the step, the agent, the account and the difference."""

    def __init__(self, step: int, agent: str, account: str, difference: float, what: str):
        self.step, self.agent, self.account, self.difference = step, agent, account, difference
        super().__init__(
            f"invariant broken at step {step}: {what} for agent {agent!r}, "
            f"account {account!r}, difference {difference:.6g} B$"
        )
