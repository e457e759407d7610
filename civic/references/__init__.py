"""References between modules: a record of one module points at a public record of another by
its subject id ("ideas:challenge-3", "delphi:7"), and the core resolves subject ids to title,
URL, status and participation level through each module's manifest (``resolve_references``),
so modules link without importing each other."""
