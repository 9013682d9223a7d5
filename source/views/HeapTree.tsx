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

type RowProps = {readonly row: TreeRow; readonly selected: boolean; readonly focused: boolean; readonly heapBytes: number; readonly width: number; readonly ascii: boolean};

/** Memoized: a row object is the same while its node is (model.treeRows caches them), so a cursor move re-renders the two rows it changes. */
const Row = React.memo(function Row({row, selected, focused, heapBytes, width, ascii}: RowProps) {
	const c = columns(width);
	const lead = branch(row, ascii);
	if (row.kind === 'more') {
		const text = `${branchGlyphs(ascii).more} ${formatCount(row.remaining)} more (enter loads them)`;
		return (
			<Text wrap="truncate" inverse={selected && focused} bold={selected && !focused}>
				<Text dimColor>{fit(lead + text, width)}</Text>
			</Text>
		);
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
	return (
		<Text wrap="truncate" inverse={selected && focused} bold={selected && !focused}>
			<Text dimColor>{lead}</Text>
			{/* The agent's own memory is dimmed: the tool's cost, not the program's. */}
			<Text bold={n.kind === 'root-group'} dimColor={n.agent}>
				{shownLabel}
			</Text>
			<Text color={stateColour(n.state)}>{typed}</Text>
			<Text> {formatBytes(n.retainedBytes).padStart(retainedWidth)}</Text>
			<Text dimColor>{(n.kind === 'root-group' ? '' : formatBytes(n.shallowBytes)).padStart(shallowWidth)}</Text>
			<Text>{share.padStart(shareWidth)}</Text>
			{c.site > 0 ? <Text dimColor> {fit(formatSite(n.site), c.site, {ascii})}</Text> : null}
		</Text>
	);
});

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
				shown.map((row, i) => <Row key={start + i} row={row} selected={start + i === index} focused={focused} heapBytes={heapBytes} width={width} ascii={ascii} />)
			)}
		</Box>
	);
}
