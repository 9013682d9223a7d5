// Live mode: takes a started source and its store and runs the full-screen
// TUI until the user quits. The container here owns everything stateful —
// the store subscription, the keys, pause and help, the terminal size, the
// clock of the reconnect countdown — and passes plain props to views/App.
import React, {useEffect, useState} from 'react';
import {render, useApp, useInput, useStdin, useStdout} from 'ink';
import type {Snapshot, Store} from '../store/store.js';
import App from '../views/App.js';
import {actionFor, keyNames} from '../views/keymap.js';
import {atExit} from './exit.js';

/** xterm's alternate screen buffer (Ink 6.8 has no option for it). */
const enterAlternateScreen = '\u001B[?1049h';
const leaveAlternateScreen = '\u001B[?1049l';
const showCursor = '\u001B[?25h';

/** How often the reconnect countdown is redrawn while it runs. */
const countdownMs = 250;

/** Terminal size; ink-testing-library's stdout has no rows, hence the fallback. */
function sizeOf(stdout: NodeJS.WriteStream): {columns: number; rows: number} {
	return {columns: stdout.columns || 100, rows: stdout.rows || 24};
}

type LiveProps = {readonly store: Store; readonly ascii: boolean};

export function Live({store, ascii}: LiveProps) {
	const {exit} = useApp();
	const {stdout} = useStdout();
	const {isRawModeSupported} = useStdin();
	const [snapshot, setSnapshot] = useState<Snapshot>(store.snapshot);
	const [frozen, setFrozen] = useState<Snapshot | undefined>(undefined);
	const [help, setHelp] = useState(false);
	const [size, setSize] = useState(() => sizeOf(stdout));
	const [nowMs, setNowMs] = useState(Date.now());

	useEffect(() => store.subscribe(setSnapshot), [store]);

	useEffect(() => {
		const onResize = () => setSize(sizeOf(stdout));
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout]);

	const counting = snapshot.connection.state === 'reconnecting';
	useEffect(() => {
		if (!counting) return;
		const timer = setInterval(() => setNowMs(Date.now()), countdownMs);
		return () => clearInterval(timer);
	}, [counting]);

	useInput(
		(input, key) => {
			for (const name of keyNames(input, key)) {
				switch (actionFor(name)) {
					case 'quit':
						exit();
						return;
					case 'help':
						setHelp(h => !h);
						break;
					case 'close':
						setHelp(false);
						break;
					case 'pause':
						setFrozen(f => (f ? undefined : store.snapshot));
						break;
					case undefined:
						break;
				}
			}
		},
		{isActive: isRawModeSupported === true},
	);

	const shown = frozen ?? snapshot;
	return <App snapshot={shown} columns={size.columns} rows={size.rows} nowMs={counting ? nowMs : Date.now()} paused={frozen !== undefined} help={help} ascii={ascii} />;
}

/**
 * Runs the TUI on the alternate screen until the user quits. The terminal is
 * restored on every way out: quit, signal and exception alike (exit.ts).
 */
export async function runLive(store: Store, ascii: boolean): Promise<void> {
	const stdout = process.stdout;
	stdout.write(enterAlternateScreen);
	atExit(() => stdout.write(showCursor + leaveAlternateScreen));
	const app = render(<Live store={store} ascii={ascii} />, {exitOnCtrlC: false, patchConsole: false});
	await app.waitUntilExit();
}
