"""One small error hierarchy: every message is one line a person can act on."""


class LedgerError(Exception):
    """A failure the user can fix; the CLI prints it on one line and exits non-zero."""


class ConfigError(LedgerError):
    """The config file or a command-line option is wrong."""


class SourceError(LedgerError):
    """A source (DynamoDB, S3, Cost Explorer, a file) could not be read."""


class WarehouseError(LedgerError):
    """The warehouse could not be read or written."""


class QueryError(LedgerError):
    """A named query could not run: a missing parameter, an engine error, an unreadable warehouse file."""


class ChargebackError(LedgerError):
    """The allocation rules, a month or the bill cannot give a statement; the message says how to fix it."""
