"""The meter-reading domain: diagrams, operations, plausibility, billing, invoices."""
