/**
 * The relations a SQL text reads: the names after `from` and `join`. One
 * parser serves both the runner's order and the dictionary's lineage, so
 * it takes only what is a relation: not the text's own CTEs, not the
 * column after `is distinct from alias.` and not a table function such as
 * `read_parquet(`. `<model>_delta` (the rows incremental model X wrote in
 * this build, see run-models.ts) is read as the model, and listed apart
 * because it lives for the build only.
 */
export interface RelationsRead {
  /** sorted, without duplicates; `X_delta` of a model X counted as X */
  relations: string[];
  /** the models whose `_delta` the text reads */
  deltasOf: string[];
}

/** Comments and string literals hide no relation; one pass, so a `--` inside a string stays a string. */
function codeOnly(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g, (match) => (match.startsWith("'") ? "''" : ' '));
}

/** `self` (a model reading its own previous state) is left out. */
export function relationsRead(sql: string, models: ReadonlySet<string>, self?: string): RelationsRead {
  const code = codeOnly(sql);
  const ctes = new Set(
    [...code.matchAll(/(?:\bwith|,)\s*(?:recursive\s+)?([a-z_][a-z0-9_]*)\s+as\s*(?:not\s+)?(?:materialized\s+)?\(/gi)].map((match) =>
      (match[1] as string).toLowerCase(),
    ),
  );
  const relations = new Set<string>();
  const deltasOf = new Set<string>();
  for (const match of code.matchAll(/\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b(?!\s*[.(])/gi)) {
    const name = (match[1] as string).toLowerCase();
    if (ctes.has(name)) continue;
    const model = name.endsWith('_delta') ? name.slice(0, -'_delta'.length) : undefined;
    if (model !== undefined && models.has(model)) deltasOf.add(model);
    const relation = model !== undefined && models.has(model) ? model : name;
    if (relation !== self) relations.add(relation);
  }
  return { relations: [...relations].sort(), deltasOf: [...deltasOf].sort() };
}
