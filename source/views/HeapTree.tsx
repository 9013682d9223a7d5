// HeapTree: the folded dominator tree — who retains what — one row per node
// through the open ones: branches, the holder's label and the type coloured
// by state, retained and shallow bytes, share of the heap, the allocation
// site. Takes the tree rows from the store (model.treeRows) and draws only
// the rows that fit its height: a 10,000-node tree costs what 40 rows cost.
import React from 'react';
import {Box, Text} from 'ink';
import type {TreeRow} from '../store/model.js';
import {cursorIndex, visibleWindow, type Cursor} from '../store/navigation.js';
import {branchGlyphs, fit, formatBytes, formatCount, formatPercent, formatSite, formatTimes, nameAndSiteColumns, stateColour} from './format.js';
import PaneTitle from './PaneTitle.js';
import StyledLine, {type Line, type Span} from './StyledLine.js';

export type Props = {
	readonly rows: readonly TreeRow[];
	readonly cursor: Cursor;
	readonly focused: boolean;
	/** Bytes the shares are of: the heap the snapshot saw. */
	readonly heapBytes: number;
	readonly width: number;
	/** Rows for the tree itself, below the title line. */
	readonly height: number;
	/** Shown instead of rows when there are none (no snapshot yet, tree not ready). */
	readonly empty?: string;
	readonly ascii?: boolean;
};

const retainedWidth = 10;
const shallowWidth = 10;
const shareWidth = 7;

function columns(width: number): {name: number; site: number} {
	return nameAndSiteColumns(width, retainedWidth + shallowWidth + shareWidth);
}

/** The branch drawn before a row's name: rails of its ancestors, its connector and its mark. */
export function branch(row: TreeRow, ascii = false): string {
	const g = branchGlyphs(ascii);
	const mark = row.kind === 'more' ? g.leaf : !row.hasChildren ? g.leaf : row.open ? g.open : g.closed;
	if (row.depth === 0) return row.kind === 'node' && !row.hasChildren ? '  ' : `${mark} `;
	let rails = '';
	for (const bit of row.rails) rails += bit === '1' ? g.rail : g.gap;
	return `${rails}${row.last ? g.last : g.middle}${mark} `;
}

/** How a row looks: its branch, name, figures and site, marked when under the cursor. */
export function treeRowLine(row: TreeRow, selected: boolean, focused: boolean, heapBytes: number, width: number, ascii: boolean): Line {
	const look = {inverse: selected && focused, bold: selected && !focused};
	const c = columns(width);
	const lead = branch(row, ascii);
	if (row.kind === 'more') {
		const text = `${branchGlyphs(ascii).more} ${formatCount(row.remaining)} more (enter loads them)`;
		return {...look, spans: [{text: fit(lead + text, width), dimColor: true}]};
	}
	const n = row.node;
	const label = n.label || (n.kind === 'object' ? '' : n.typeName);
	const type = n.kind === 'root-group' || n.typeName === label ? '' : n.typeName;
	const times = n.kind === 'folded' ? `${formatTimes(n.count, {ascii})} ` : '';
	// The name column: branch, label, then the count and type in the state's colour, cut to fit.
	const room = c.name - lead.length;
	const labelText = label ? `${label}${type || times ? ' ' : ''}` : '';
	const shownLabel = labelText.length > room ? fit(labelText, Math.max(0, room), {ascii}) : labelText;
	const typed = fit(times + type, Math.max(0, room - shownLabel.length), {ascii});
	const share = heapBytes > 0 ? formatPercent(n.retainedBytes / heapBytes) : '';
	const spans: Span[] = [
		{text: lead, dimColor: true},
		// The agent's own memory is dimmed: the tool's cost, not the program's.
		{text: shownLabel, bold: n.kind === 'root-group', dimColor: n.agent},
		{text: typed, color: stateColour(n.state)},
		{text: ` ${formatBytes(n.retainedBytes).padStart(retainedWidth)}`},
		{text: (n.kind === 'root-group' ? '' : formatBytes(n.shallowBytes)).padStart(shallowWidth), dimColor: true},
		{text: share.padStart(shareWidth)},
	];
	if (c.site > 0) spans.push({text: ` ${fit(formatSite(n.site), c.site, {ascii})}`, dimColor: true});
	return {...look, spans};
}

export default function HeapTree({rows, cursor, focused, heapBytes, width, height, empty, ascii = false}: Props) {
	const c = columns(width);
	const heading = `${'retained'.padStart(retainedWidth)}${'shallow'.padStart(shallowWidth)}${'heap'.padStart(shareWidth)}${c.site > 0 ? ` ${'site'.padEnd(c.site)}` : ''}`;
	const index = cursorIndex(cursor, rows);
	const start = visibleWindow(cursor.offset, index, rows.length, height);
	const shown = rows.slice(start, start + height);
	return (
		<Box flexDirection="column" width={width} height={height + 1} flexShrink={0}>
			<PaneTitle title="Heap tree" detail={rows.length > 0 ? `${formatCount(index + 1)}/${formatCount(rows.length)}` : ''} right={heading} focused={focused} width={width} />
			{shown.length === 0 ? (
				<Text dimColor wrap="truncate">
					{empty ?? ''}
				</Text>
			) : (
				shown.map((row, i) => <StyledLine key={start + i} line={treeRowLine(row, start + i === index, focused, heapBytes, width, ascii)} />)
			)}
		</Box>
	);
}
