// The --once report as a string: takes a Snapshot, gives the text to print.
// Uses renderToString, never render(): render() writes erase sequences into
// a pipe (see shared/reference/tui-stack.md §1). Colour follows chalk's level,
// which the bin bootstrap settled from the environment and argv.
import React from 'react';
import {renderToString} from 'ink';
import type {Snapshot} from '../store/store.js';
import Report from './Report.js';
import type {Chains, Report as ReportDocument} from './document.js';

/** Report width when stdout is not a terminal: what a ticket, a CI log or an 80-column terminal shows whole. */
export const defaultColumns = 80;

export type RenderOptions = {
	readonly columns?: number;
	readonly nowMs?: number;
	readonly ascii?: boolean;
	/** The heap snapshot's part (document.ts) and every finding's chain. */
	readonly report?: ReportDocument;
	readonly chains?: Chains;
};

/** One ASCII character for each other one, so columns stay where they were: ×12 is x12, … is ., µ is u. */
const asciiFor: Record<string, string> = {'×': 'x', '…': '.', µ: 'u'};

export function renderReport(snapshot: Snapshot, {columns = defaultColumns, nowMs = Date.now(), ascii = false, report, chains}: RenderOptions = {}): string {
	const text = renderToString(<Report snapshot={snapshot} columns={columns} nowMs={nowMs} ascii={ascii} report={report} chains={chains} />, {columns});
	// Ink cuts lines with "…", and the agent's names and summaries may hold any character.
	return ascii ? text.replace(/[^\x00-\x7E]/gu, c => asciiFor[c] ?? '?') : text;
}
