// Chain: one retention chain for the printed report, laid out for narrow
// terminals — a hop's name, type and size on one line, where it comes from
// (allocation file:line, frame, hidden word) on an indented line below, each
// cut to the width, never wrapped. The cells are the path pane's (hopCells),
// so both say the same about a hop; the pane's one-line-a-hop table needs
// more than 80 columns to keep file:line, the report must fit in 80.
import React from 'react';
import {Box, Text} from 'ink';
import type {Hop} from '../client/heap.js';
import {hopCells} from '../views/PathView.js';
import {formatCount, stateColour} from '../views/format.js';

const glyphs = {
	unicode: {first: '┌', middle: '├', hidden: '╎', target: '└', elided: '┊', down: '│', ellipsis: '…'},
	ascii: {first: '+', middle: '|', hidden: ':', target: '`', elided: ':', down: '|', ellipsis: '...'},
} as const;

export type Props = {
	readonly hops: readonly Hop[];
	readonly width: number;
	readonly ascii?: boolean;
};

function HopLines({hop, i, count, width, ascii}: {readonly hop: Hop; readonly i: number; readonly count: number; readonly width: number; readonly ascii: boolean}) {
	const g = ascii ? glyphs.ascii : glyphs.unicode;
	if (hop.elided > 0) {
		return (
			<Text dimColor wrap="truncate">
				{`${g.elided} ${g.ellipsis} ${formatCount(hop.elided)} hops left out`}
			</Text>
		);
	}
	const last = i === count - 1;
	// The agent marks a dangling chain's target as held via the hidden word; it is no word but
	// what the word points at (a free slot, a stack, garbage): say what and where it is.
	const cells = hopCells(last && hop.via === 'hidden' ? {...hop, via: 'pointer'} : hop);
	const connector = hop.via === 'hidden' && !last ? g.hidden : i === 0 ? g.first : last ? g.target : g.middle;
	const below = last ? ' ' : hop.via === 'hidden' ? g.hidden : g.down;
	const colour = hop.via === 'hidden' && !last ? 'red' : stateColour(hop.state);
	return (
		<Box flexDirection="column" width={width}>
			<Text wrap="truncate-end">
				<Text dimColor>{connector} </Text>
				<Text color={hop.via === 'hidden' ? 'red' : undefined}>{cells.label}</Text>
				{cells.type ? <Text color={colour}>{`  ${cells.type}`}</Text> : null}
				{cells.size ? <Text>{`  ${cells.size}`}</Text> : null}
			</Text>
			{cells.where || cells.note ? (
				<Text wrap="truncate-end">
					<Text dimColor>{below}   </Text>
					<Text>{cells.where}</Text>
					{cells.note ? <Text dimColor>{cells.where ? ` (${cells.note})` : cells.note}</Text> : null}
				</Text>
			) : null}
		</Box>
	);
}

export default function Chain({hops, width, ascii = false}: Props) {
	return (
		<Box flexDirection="column" width={width}>
			{hops.map((hop, i) => (
				<HopLines key={i} hop={hop} i={i} count={hops.length} width={width} ascii={ascii} />
			))}
		</Box>
	);
}
