// App: the live screen — Header, Sparklines (or the Help overlay), Footer —
// fitted into the terminal. Pure: everything it shows comes in as props; the
// container in source/cli/live.tsx owns the store, the keys and the clock.
import React from 'react';
import {Box} from 'ink';
import type {Snapshot} from '../store/store.js';
import Footer from './Footer.js';
import Header from './Header.js';
import Help from './Help.js';
import Sparklines from './Sparklines.js';

export type Props = {
	readonly snapshot: Snapshot;
	readonly columns: number;
	readonly rows: number;
	readonly nowMs: number;
	readonly paused?: boolean;
	readonly help?: boolean;
	readonly ascii?: boolean;
};

/**
 * The frame is kept to rows-1 lines: Ink 6.8 clears and rewrites the whole
 * terminal on every frame once a frame is as tall as the terminal. Blank
 * separator lines go first when space is short, then the bottom is clipped.
 */
export default function App({snapshot, columns, rows, nowMs, paused = false, help = false, ascii = false}: Props) {
	const height = Math.max(1, rows - 1);
	const roomy = height >= 12;
	return (
		<Box flexDirection="column" width={columns} height={height} overflow="hidden">
			<Header snapshot={snapshot} columns={columns} nowMs={nowMs} ascii={ascii} />
			<Box flexDirection="column" marginTop={roomy ? 1 : 0} flexGrow={1}>
				{help ? <Help /> : <Sparklines snapshot={snapshot} columns={columns} ascii={ascii} />}
			</Box>
			<Footer paused={paused} />
		</Box>
	);
}
