// The --once report as a string: takes a Snapshot, gives the text to print.
// Uses renderToString, never render(): render() writes erase sequences into
// a pipe (see shared/reference/tui-stack.md §1). Colour follows chalk's level,
// which the bin bootstrap settled from the environment and argv.
import React from 'react';
import {renderToString} from 'ink';
import type {Snapshot} from '../store/store.js';
import Report from './Report.js';

/** Report width when stdout is not a terminal. */
export const defaultColumns = 100;

export function renderReport(snapshot: Snapshot, {columns = defaultColumns, nowMs = Date.now(), ascii = false} = {}): string {
	return renderToString(<Report snapshot={snapshot} columns={columns} nowMs={nowMs} ascii={ascii} />, {columns});
}
