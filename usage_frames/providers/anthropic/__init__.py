"""Anthropic: the Admin API's usage and cost reports, as the package's second provider."""
