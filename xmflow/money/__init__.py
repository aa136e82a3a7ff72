"""The money a project's records derive: figures, the payment schedule, receivables."""
