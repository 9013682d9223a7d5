// Exit paths: every way out of heaptop — normal quit, a signal, an expected
// error, an unexpected exception — runs the registered cleanups (restore the
// terminal, finish the recording) exactly once, then says at most one line.
//
// Exit codes: 0 ok; 1 findings of a --fail-on kind; 2 bad usage, target,
// connection or recording; 3 internal error (a bug: set HEAPTOP_DEBUG=1 for
// the stack); 128+n on signal n. 1 is --fail-on's alone, so a CI job never
// takes a bug in heaptop for a finding.

const cleanups: Array<() => void> = [];
let cleaned = false;

/** Registers a synchronous cleanup; they run in reverse order of registration. */
export function atExit(fn: () => void): void {
	cleanups.push(fn);
}

function runCleanups(): void {
	if (cleaned) return;
	cleaned = true;
	for (const fn of cleanups.reverse()) {
		try {
			fn();
		} catch {
			// A cleanup that fails must not keep the others from running.
		}
	}
}

/** Cleans up, writes `heaptop: message` on stderr when given, and exits. */
export function exit(code: number, message?: string): never {
	runCleanups();
	// One line, whatever a peer or the system put in the message.
	if (message !== undefined) process.stderr.write(`heaptop: ${message.replace(/\s*[\r\n]+\s*/g, ' ')}\n`);
	process.exit(code);
}

/** The last resort: no exception or signal leaves a raw terminal or a stack trace. */
export function installExitHandlers(): void {
	process.on('exit', runCleanups);
	const internal = (error: unknown) => {
		const text = error instanceof Error ? error.message : String(error);
		if (process.env['HEAPTOP_DEBUG'] && error instanceof Error) process.stderr.write(`${error.stack}\n`);
		exit(3, `internal error: ${text.split('\n')[0]}`);
	};
	process.on('uncaughtException', internal);
	process.on('unhandledRejection', internal);
	const signals = {SIGINT: 2, SIGTERM: 15, SIGHUP: 1} as const;
	for (const [name, n] of Object.entries(signals)) process.on(name, () => exit(128 + n));
}
