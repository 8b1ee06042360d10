"""Faust's workarounds, in one room: the only code that touches Faust or aiokafka internals.

Every module here names, in its docstring, the upstream behaviour it works
around (faust-streaming 0.15, aiokafka 0.14: file and function), and
``tests/unit/test_runtime_canary.py`` checks that what it relies on is still
there and behaves as assumed, so that an upgrade which changes it fails
loudly instead of losing notices quietly. ``tests/unit/test_private_names.py``
checks that no module outside this package imports a private Faust or
aiokafka name or reaches into their objects' private attributes.

- :mod:`~streams.runtime.rewind`: the seek to committed offsets also rewinds
  partitions that have no commit (the transport, set through ``App.transport``);
- :mod:`~streams.runtime.recovery_guard`: no event dropped when a recovery ends;
- :mod:`~streams.runtime.offset_gaps`: the trace such a loss leaves;
- :mod:`~streams.runtime.acked`: writes that return once the broker stored them;
- :mod:`~streams.runtime.partition_scan`: one partition of a table, in key order;
- :mod:`~streams.runtime.batch_writer`: aiokafka's batch API under Faust's producer.
"""
