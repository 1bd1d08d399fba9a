"""The legacy wing: the ``providers:`` YAML document, read safely, imported and exported.

Lives here: the safe YAML loader, the document model and dumper, the importer (one transaction),
the exporter (atomic file writes, to a regular file only: ``export_target``), the legacy class's
own YAML file written from in-memory configs (``provider_file``), the import report, and
``ProviderStore``'s YAML operations (``yaml_operations``).
May import: the leaf modules and ``catalog``; never ``providers``, ``discovery``, ``resolution``
or ``cli``.
"""
