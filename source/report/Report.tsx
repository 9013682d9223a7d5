// Report: the --once output — the live screen's Header and Sparklines,
// followed by what the figures cover. Same components and formatters as the
// live views, so the report and the screen never disagree.
import React from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../store/store.js';
import Header from '../views/Header.js';
import Sparklines, {sparklineWidth} from '../views/Sparklines.js';
import {formatCount} from '../views/format.js';

export type Props = {
	readonly snapshot: Snapshot;
	readonly columns: number;
	readonly nowMs: number;
	readonly ascii?: boolean;
};

/** What the sparklines cover: how many samples and pauses, over how long. */
export function coverage(snapshot: Snapshot, columns: number): string {
	const width = sparklineWidth(columns);
	const samples = Math.min(width, snapshot.samples.length);
	const pauses = Math.min(width, snapshot.pauses.length);
	const seconds = Math.round((samples * snapshot.tickIntervalMs) / 1000);
	const pauseText = pauses === 1 ? '1 GC pause' : `${formatCount(pauses)} GC pauses`;
	return `last ${formatCount(samples)} samples (${seconds} s) and last ${pauseText}`;
}

export default function Report({snapshot, columns, nowMs, ascii = false}: Props) {
	return (
		<Box flexDirection="column" width={columns}>
			<Header snapshot={snapshot} columns={columns} nowMs={nowMs} ascii={ascii} />
			<Box marginTop={1}>
				<Sparklines snapshot={snapshot} columns={columns} ascii={ascii} />
			</Box>
			<Text dimColor>{coverage(snapshot, columns)}</Text>
		</Box>
	);
}
