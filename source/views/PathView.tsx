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

/**
 * A hidden reference's chain ends in two hops held "via hidden": the word
 * the GC does not follow (a uintptr in its holder, state unknown), then what
 * its value points at (a free slot, a stack, a pending or live object). A hop
 * is the target when it is the chain's last; callers that print one hop
 * alone may leave `target` out: a hidden hop with a state is the target.
 */
export function isHiddenTarget(hop: Hop, last?: boolean): boolean {
	return hop.via === 'hidden' && (last ?? hop.state !== 'unknown');
}

/** How one hop is held and what it is, as the chain's columns say it. */
export function hopCells(hop: Hop, target = isHiddenTarget(hop)): {label: string; type: string; size: string; where: string; note: string} {
	const site = formatSite(hop.site);
	const fn = hop.site?.function ? ` ${hop.site.function}` : '';
	const size = hop.bytes > 0 ? formatBytes(hop.bytes) : '';
	if (hop.via === 'hidden' && !target) {
		// The word itself: inside the hop before (its holder), offset bytes in.
		return {label: hop.label, type: hop.typeName, size, where: `hidden word at ${formatAddress(hop.address + hop.offset)}`, note: 'the GC does not follow it'};
	}
	if (hop.via === 'frame' || (target && hop.state === 'stack')) {
		// A stack target's label names the goroutine and function already: its line says where it waits.
		const created = hop.createdBy ? `created at ${formatSite(hop.createdBy)}` : '';
		const note = [hop.waitReason, created].filter(Boolean).join(', ');
		return {label: hop.label, type: hop.typeName, size, where: site ? `at ${site}${target ? '' : fn}` : '', note};
	}
	const state = hop.state === 'live' || hop.state === 'unknown' ? '' : stateName(hop.state);
	const at = hop.address > 0 ? `at ${formatAddress(hop.address)}` : '';
	return {
		label: hop.label,
		type: hop.typeName,
		size,
		// A target is named by its address too: the value the hidden word holds.
		where: target ? [site ? `alloc ${site}${fn}` : '', at].filter(Boolean).join(' ') : site ? `alloc ${site}${fn}` : state && at,
		note: target && !state ? 'live' : state,
	};
}

/** Columns of a hop line at `width`: connector 2, label, type, size 10, then where and note. */
function columns(width: number): {label: number; type: number; size: number} {
	const rest = Math.max(20, width - 2 - 10 - 2);
	return {label: Math.floor(rest * 0.4), type: Math.floor(rest * 0.24), size: 10};
}

function HopLine({hop, i, count, width, ascii, printing}: {readonly hop: Hop; readonly i: number; readonly count: number; readonly width: number; readonly ascii: boolean; readonly printing: boolean}) {
	const g = ascii ? glyphs.ascii : glyphs.unicode;
	if (hop.elided > 0) {
		return (
			<Text dimColor wrap="truncate">
				{`${g.elided} ${ascii ? '...' : '…'} ${formatCount(hop.elided)} hops left out of the document`}
			</Text>
		);
	}
	const c = columns(width);
	const last = i === count - 1;
	const target = isHiddenTarget(hop, last);
	const cells = hopCells(hop, target);
	const word = hop.via === 'hidden' && !target;
	const connector = word ? g.hidden : i === 0 ? g.first : last ? g.target : g.middle;
	const colour = word ? 'red' : stateColour(hop.state);
	if (target) {
		// What the hidden word points at: the agent's label says it whole ("free 3200 B slot",
		// "pending main.soonVictim: the next GC frees it"); no column would hold it.
		return (
			<Text wrap={printing ? 'wrap' : 'truncate'}>
				<Text dimColor>{connector} </Text>
				<Text color={colour} bold>{cells.label}</Text>
				<Text>{cells.size ? `  ${cells.size}` : ''}{cells.where ? `  ${cells.where}` : ''}</Text>
				{cells.note ? <Text dimColor> ({cells.note})</Text> : null}
			</Text>
		);
	}
	return (
		<Text wrap={printing ? 'wrap' : 'truncate'}>
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
		<Box flexDirection="column" width={width} height={height === undefined ? undefined : height + 1} flexShrink={0}>
			<PaneTitle title="Path" detail={detail} right={path.status === 'ready' ? more : ''} focused={focused} width={width} />
			<Text wrap="truncate" color={colour} bold>
				{path.title}
			</Text>
			{path.status === 'loading' && path.hops.length === 0 ? <Text dimColor>reading the chain from the agent{ascii ? '...' : '…'}</Text> : null}
			{path.status === 'failed' ? <Text color="red">{path.error}</Text> : null}
			{hops.map((hop, i) => (
				<HopLine key={start + i} hop={hop} i={start + i} count={path.hops.length} width={width} ascii={ascii} printing={height === undefined} />
			))}
			{path.status === 'ready' && path.error ? (
				<Text color="yellow" wrap="truncate">
					{path.error}
				</Text>
			) : null}
		</Box>
	);
}
