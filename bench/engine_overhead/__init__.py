"""What engine/ costs on top of SpiffWorkflow; run ``python -m bench.engine_overhead`` (the
sections and what they measure are described in ``__main__``)."""
