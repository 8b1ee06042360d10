"""Development tools, apart from the runtime: the worker never imports this package.

- :mod:`streams.local.broker` (and :mod:`streams.local.broker_sasl`): the local
  single-node Kafka broker of ``preavis kafka up|down|status``;
- :mod:`streams.local.demo`: ``preavis demo``, with its sample users;
- :mod:`streams.local.mail_capture`: the demo's mail catcher (aiosmtpd, a
  development extra: ``pip install -e '.[dev]'``).

``streams.cli`` imports them inside the ``kafka`` and ``demo`` commands only;
``tests/unit/test_runtime_imports.py`` checks that the worker's modules do not.
"""
