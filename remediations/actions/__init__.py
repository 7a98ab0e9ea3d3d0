"""Built-in remediation actions, one module per concern (registered in ``registry.BUILTIN``)."""
