"""saygac's runtime: diagrams, the safe evaluator, instances, work items, versions.

SpiffWorkflow logs every task state change on the ``spiff`` loggers at INFO and DEBUG; with a
long or runaway run that is a flood (and slow), so the library's loggers are kept at WARNING
whatever level the application logs at.
"""

import logging

logging.getLogger("spiff").setLevel(logging.WARNING)
