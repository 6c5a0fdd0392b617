"""cucs-analysis: evaluation of French urban-policy contracts (CUCS, contrats de ville)."""

__version__ = "0.1.0"
