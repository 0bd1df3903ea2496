"""The contract kit: one pytest suite that runs against the emulator or a real array.

The plugin (``contract_tests.plugin``) adds the ``--array-*`` options and the target
fixtures; the suite lives in ``contract_tests.suite``; ``array-contract`` runs it.
"""
