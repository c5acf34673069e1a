/**
 * The JSON report: the RunReport itself, schemaVersion 1, described in conformance/REPORT-SCHEMA.md
 * and conformance/report.schema.json. Fields are only ever added within a schema version.
 */
import type { RunReport } from '../types';

export function renderJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
