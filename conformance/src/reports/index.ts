/** Writes the four reports of a run into one directory. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from '../types';
import { renderHtml } from './html';
import { renderJson } from './json';
import { renderJunit } from './junit';
import { renderMarkdown } from './markdown';

export { renderHtml, renderJson, renderJunit, renderMarkdown };

export interface WrittenReports {
  junit: string;
  json: string;
  markdown: string;
  html: string;
}

/** Writes conformance.junit.xml, conformance.json, conformance.md and conformance.html into `dir`. */
export async function writeReports(report: RunReport, dir: string): Promise<WrittenReports> {
  await mkdir(dir, { recursive: true });
  const files: WrittenReports = {
    junit: join(dir, 'conformance.junit.xml'),
    json: join(dir, 'conformance.json'),
    markdown: join(dir, 'conformance.md'),
    html: join(dir, 'conformance.html'),
  };
  await Promise.all([
    writeFile(files.junit, renderJunit(report)),
    writeFile(files.json, renderJson(report)),
    writeFile(files.markdown, renderMarkdown(report)),
    writeFile(files.html, renderHtml(report)),
  ]);
  return files;
}
