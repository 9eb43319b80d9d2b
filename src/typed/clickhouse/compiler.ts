/**
 * Kysely's default SQL with every value inlined as a ClickHouse literal
 * (engine/clickhouse/literals.ts): 18.16 fails server-side parameters, so a
 * compiled query carries no parameters at all. Identifiers in backticks.
 */
import { DefaultQueryCompiler } from 'kysely';
import { clickhouseLiteral, escapeClickHouseString, escapeIdentifierText } from '../../engine/clickhouse/literals.js';

export class ClickHouseQueryCompiler extends DefaultQueryCompiler {
  protected override appendValue(value: unknown): void {
    this.append(clickhouseLiteral(value));
  }

  // sql.lit and defaults in DDL: the same literal, so a Date is milliseconds there too, not an ISO string
  protected override appendImmediateValue(value: unknown): void {
    this.append(clickhouseLiteral(value));
  }

  protected override sanitizeStringLiteral(value: string): string {
    return escapeClickHouseString(value);
  }

  protected override getLeftIdentifierWrapper(): string {
    return '`';
  }

  protected override getRightIdentifierWrapper(): string {
    return '`';
  }

  protected override sanitizeIdentifier(identifier: string): string {
    return escapeIdentifierText(identifier);
  }
}
