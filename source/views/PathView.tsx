// PathView: one retention chain, root first, one hop a line — how each hop
// is held (the global, the goroutine's frame, the field, the index), its
// type coloured by state, its size, and where it comes from (allocation
// file:line, or the frame's file:line). For a hidden reference the last two
// lines spell out the hidden word (where it is: holder + offset) and what its
// value points at. Takes a PathView from the store; draws, with no I/O. The
// same component prints the last path into the scrollback when heaptop quits.
import React from 'react';
import {Box, Text} from 'ink';
import type {Hop} from '../client/heap.js';
import type {PathView as Path} from '../store/navigation.js';
import {fit, findingName, formatAddress, formatBytes, formatCount, formatSite, stateColour, stateName} from './format.js';
import PaneTitle from './PaneTitle.js';

export type Props = {
	readonly path: Path;
	/** The finding's place among those d visits: "2/5". */
	readonly position?: string;
	readonly focused: boolean;
	readonly width: number;
	/** Lines below the title: the summary and the hops. Undefined: as many as the chain needs (printing). */
	readonly height?: number;
	readonly ascii?: boolean;
};

const glyphs = {
	unicode: {first: '┌', middle: '├', hidden: '╎', target: '└', elided: '┊'},
	ascii: {first: '+', middle: '|', hidden: ':', target: '`', elided: ':'},
} as const;

/** How one hop is held and what it is, as the chain's columns say it. */
export function hopCells(hop: Hop): {label: string; type: string; size: string; where: string; note: string} {
	const site = formatSite(hop.site);
	const fn = hop.site?.function ? ` ${hop.site.function}` : '';
	if (hop.via === 'hidden') {
		// The word itself: its own address is holder + offset (the hop before is the holder).
		return {label: hop.label, type: hop.typeName, size: '', where: `hidden word at ${formatAddress(hop.address)}`, note: 'not a pointer to the GC'};
	}
	if (hop.via === 'frame') {
		const created = hop.createdBy ? `created at ${formatSite(hop.createdBy)}` : '';
		const note = [hop.waitReason, created].filter(Boolean).join(', ');
		return {label: hop.label, type: hop.typeName, size: hop.bytes > 0 ? formatBytes(hop.bytes) : '', where: site ? `at ${site}${fn}` : '', note};
	}
	const state = hop.state === 'live' || hop.state === 'unknown' ? '' : stateName(hop.state);
	return {
		label: hop.label,
		type: hop.typeName,
		size: hop.bytes > 0 ? formatBytes(hop.bytes) : '',
		// A target that is no live object (a free slot, a stack, garbage) is named by its address.
		where: site ? `alloc ${site}${fn}` : state && hop.address > 0 ? `at ${formatAddress(hop.address)}` : '',
		note: state,
	};
}

/** Columns of a hop line at `width`: connector 2, label, type, size 10, then where and note. */
function columns(width: number): {label: number; type: number; size: number} {
	const rest = Math.max(20, width - 2 - 10 - 2);
	return {label: Math.floor(rest * 0.4), type: Math.floor(rest * 0.24), size: 10};
}

function HopLine({hop, i, count, width, ascii}: {readonly hop: Hop; readonly i: number; readonly count: number; readonly width: number; readonly ascii: boolean}) {
	const g = ascii ? glyphs.ascii : glyphs.unicode;
	if (hop.elided > 0) {
		return (
			<Text dimColor wrap="truncate">
				{`${g.elided} ${ascii ? '...' : '…'} ${formatCount(hop.elided)} hops left out of the document`}
			</Text>
		);
	}
	const c = columns(width);
	const cells = hopCells(hop);
	const connector = hop.via === 'hidden' ? g.hidden : i === 0 ? g.first : i === count - 1 ? g.target : g.middle;
	const colour = hop.via === 'hidden' ? 'red' : stateColour(hop.state);
	return (
		<Text wrap="truncate">
			<Text dimColor>{connector} </Text>
			<Text color={hop.via === 'hidden' ? 'red' : undefined}>{fit(cells.label, c.label, {ascii})} </Text>
			<Text color={colour}>{fit(cells.type, c.type, {ascii})}</Text>
			<Text>{cells.size.padStart(c.size)}  </Text>
			<Text>{cells.where}</Text>
			{cells.note ? <Text dimColor> ({cells.note})</Text> : null}
		</Text>
	);
}

export default function PathView({path, position, focused, width, height, ascii = false}: Props) {
	const detail = path.kind ? [findingName(path.kind), position].filter(Boolean).join(' ') : '';
	const rows = height === undefined ? path.hops.length : Math.max(0, height - 1);
	const start = Math.max(0, Math.min(path.offset, path.hops.length - rows));
	const hops = path.hops.slice(start, start + rows);
	const colour = path.kind === 'leak' || path.kind === 'suspect' ? 'magenta' : path.kind ? 'red' : undefined;
	const more = path.hops.length > rows ? `hops ${start + 1}-${start + hops.length} of ${path.hops.length}` : `${path.hops.length} hops`;
	return (
		<Box flexDirection="column" width={width} height={height === undefined ? undefined : height + 1} overflow="hidden" flexShrink={0}>
			<PaneTitle title="Path" detail={detail} right={path.status === 'ready' ? more : ''} focused={focused} width={width} />
			<Text wrap="truncate" color={colour} bold>
				{path.title}
			</Text>
			{path.status === 'loading' && path.hops.length === 0 ? <Text dimColor>reading the chain from the agent{ascii ? '...' : '…'}</Text> : null}
			{path.status === 'failed' ? <Text color="red">{path.error}</Text> : null}
			{hops.map((hop, i) => (
				<HopLine key={start + i} hop={hop} i={start + i} count={path.hops.length} width={width} ascii={ascii} />
			))}
			{path.status === 'ready' && path.error ? (
				<Text color="yellow" wrap="truncate">
					{path.error}
				</Text>
			) : null}
		</Box>
	);
}
