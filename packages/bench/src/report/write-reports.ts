import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFormatError } from '@slmkit/core';
import type { SuiteResult } from '../runner/result-types.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export interface ReportPaths {
  json: string;
  markdown: string;
  html: string;
}

/** Writes results.json, report.md and report.html into `dir`. */
export async function writeReports(result: SuiteResult, dir: string): Promise<ReportPaths> {
  const paths = { json: join(dir, 'results.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  await mkdir(dir, { recursive: true });
  await writeFile(paths.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(paths.markdown, renderMarkdown(result));
  await writeFile(paths.html, renderHtml(result));
  return paths;
}

/** Reads a results.json written by writeReports. */
export async function readResults(path: string): Promise<SuiteResult> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as SuiteResult).cells)) {
    throw new ModelFormatError('not a bench results.json (no "cells" array)', { file: path });
  }
  return parsed as SuiteResult;
}
