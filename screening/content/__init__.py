"""Content on disk: strict YAML (no YAML 1.1 surprises, located errors), loading instruments,
rule sets, the legal table and licensed texts, and migrations between instrument versions.

May import: ``screening.engine``, ``screening.referral``, ``screening.errors`` / yaml,
pydantic and the stdlib.
Must not import: store, report, interview, batch, cli.

Modules: ``_yaml_compose``, ``loader``, ``migration``, ``migration_checks``,
``rules_loader``, ``texts``, ``yamlsafe``.
"""
