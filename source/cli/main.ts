// heaptop's program: takes the command line, wires a source (a live Watch or
// a Replay) into the store, and runs the live TUI or prints the --once
// report. Every expected failure ends here as one line on stderr and exit 2.
//
// Ink and React are imported only when something is to be drawn: a mistyped
// argument or a dead pid is answered without loading them. The live TUI
// loads them while the agent answers the first request.
import {ConnectionError, Watch, type UpdateSource} from '../client/watch.js';
import {TargetError, AmbiguousTargetError, describeAgent, parseTarget} from '../client/target.js';
import {AccessError, accessFor} from '../client/channel.js';
import {shownPath} from '../client/text.js';
import {Recorder, Replay, RecordingError, readRecording} from '../client/recording.js';
import {Store} from '../store/store.js';
import {UsageError, parseArgs, usage, version} from './args.js';
import {atExit, exit, installExitHandlers} from './exit.js';
import {ReportError, runOnce} from './once.js';

installExitHandlers();

/** The errors a user can cause; each becomes one line and exit 2. */
function isExpected(error: unknown): error is Error {
	return (
		error instanceof UsageError ||
		error instanceof TargetError ||
		error instanceof AccessError ||
		error instanceof RecordingError ||
		error instanceof ConnectionError ||
		error instanceof ReportError
	);
}

/** With --once, how long to wait for a first sample when the Hello brought no history. */
function firstSampleDeadlineMs(tickIntervalMs: number): number {
	return 2 * tickIntervalMs + 1_000;
}

/** Runs heaptop and gives its exit status; expected failures throw. */
async function main(): Promise<number> {
	const options = parseArgs(process.argv.slice(2));
	if (options.help) {
		process.stdout.write(usage() + '\n');
		return 0;
	}
	if (options.version) {
		process.stdout.write(`heaptop ${version()}\n`);
		return 0;
	}
	const dumb = process.env['TERM'] === 'dumb';
	const ascii = options.ascii || dumb;
	const live = !options.once && process.stdout.isTTY === true && !dumb;

	let source: UpdateSource;
	if (options.replay !== undefined) {
		source = new Replay(readRecording(options.replay), options.replay, {paced: live});
	} else {
		const target = parseTarget(options.target);
		const access = accessFor(target, options);
		let recorder: Recorder | undefined;
		if (options.record !== undefined) {
			try {
				recorder = new Recorder(options.record, version());
			} catch (error) {
				throw new UsageError(`cannot write recording ${shownPath(options.record)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
			}
			const r = recorder;
			atExit(() => r.close());
		}
		source = new Watch({
			target,
			access,
			onMessage: recorder ? bytes => recorder.add(bytes) : undefined,
			onCall: recorder ? call => recorder.addCall(call) : undefined,
		});
	}
	atExit(() => source.close());

	const store = new Store();
	const started = source.start(update => store.apply(update));
	// After start(), so that the connection is under way while Ink, React
	// and yoga's WASM are set up (~70 ms of the first frame's CPU).
	const liveModule = live ? import('./live.js') : undefined;
	const hello = await started;

	if (liveModule) {
		const {runLive} = await liveModule;
		await runLive(store, source, ascii);
		return 0;
	}
	if (store.snapshot.samples.length === 0 && options.replay === undefined) {
		await new Promise<void>(resolve => {
			const timer = setTimeout(resolve, firstSampleDeadlineMs(hello.tickIntervalMs));
			const stop = store.subscribe(s => {
				if (s.samples.length > 0) {
					clearTimeout(timer);
					stop();
					resolve();
				}
			});
		});
	}
	const {defaultColumns} = await import('../report/render.js');
	const columns = process.stdout.isTTY ? process.stdout.columns || defaultColumns : defaultColumns;
	return runOnce(store, source, options, {columns, ascii, version: version()});
}

try {
	exit(await main());
} catch (error) {
	if (error instanceof AmbiguousTargetError) {
		process.stdout.write(error.agents.map(describeAgent).join('\n') + '\n');
	}
	if (isExpected(error)) exit(2, error.message);
	throw error;
}
