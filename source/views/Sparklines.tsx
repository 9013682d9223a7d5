// Sparklines: the three metrics-tier series — GC pause per cycle (each pause
// a point), heap live and allocation rate per sample — one Sparkline each,
// plus a note when the runtime's pause ring lost pauses between samples.
import React from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../store/store.js';
import Sparkline, {figuresWidth, labelWidth} from './Sparkline.js';
import {formatBytes, formatCount, formatDuration, formatRate} from './format.js';

export type Props = {
	readonly snapshot: Snapshot;
	readonly columns: number;
	readonly ascii?: boolean;
};

/** Columns left for the line itself once label and figures are placed. */
export function sparklineWidth(columns: number): number {
	return Math.max(8, columns - labelWidth - figuresWidth - 1);
}

function Sparklines({snapshot, columns, ascii = false}: Props) {
	const width = sparklineWidth(columns);
	return (
		<Box flexDirection="column">
			<Sparkline
				label="GC pause"
				series={snapshot.gcPause}
				width={width}
				format={ns => formatDuration(ns, {ascii})}
				color="magenta"
				ascii={ascii}
				empty="no GC cycle yet"
			/>
			<Sparkline label="heap live" series={snapshot.heapLive} width={width} format={formatBytes} color="green" floor="min" ascii={ascii} />
			<Sparkline label="alloc rate" series={snapshot.allocRate} width={width} format={formatRate} color="cyan" ascii={ascii} />
			{snapshot.pausesMissed > 0 ? (
				<Text color="yellow">
					{formatCount(snapshot.pausesMissed)} GC pauses were lost between samples (over 256 cycles in one tick)
				</Text>
			) : null}
		</Box>
	);
}

/** Memoized: the snapshot changes with a tick, not with a key. */
export default React.memo(Sparklines);
