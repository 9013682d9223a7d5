// End to end in tmux: heaptop opens on the running demo in a real terminal,
// draws a GC pause sparkline, survives a resize, and `q` exits 0 leaving the
// terminal as it was — also after the agent was killed under it, and through
// a slow link that stalls. The program under test runs without CI=true: Ink draws
// nothing until exit while CI is set (shared/reference/tui-stack.md §7).
import test from 'ava';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {buildGo, markerLine, startDemo, tempDir} from './helpers/demo.js';
import {bundledCommand} from './helpers/heaptop.js';
import {slowLink} from './helpers/proxy.js';
import {waitFor} from './helpers/wait.js';

/** A tmux server of this test's own (-L), so no other tmux user is touched and none touches us. */
const socketName = `heaptop-e2e-${process.pid}`;
const tmuxOn =
	(name: string) =>
	(...args: string[]) =>
		execFileSync('tmux', ['-L', name, ...args], {encoding: 'utf8'});
const tmux = tmuxOn(socketName);
const tmux2 = tmuxOn(`${socketName}-signals`);

/** Stops a tmux server of ours and removes its socket file, which kill-server leaves behind. */
function killServer(name: string) {
	try {
		execFileSync('tmux', ['-L', name, 'kill-server'], {stdio: 'ignore'});
	} catch {
		// Already gone.
	}
	fs.rmSync(path.join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid!()}`, name), {force: true});
}
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The shell command that runs the shipped heaptop (the bundle) on the demo,
 * without CI=true (Ink draws nothing under it).
 */
const heaptopIn = (dir: string, target: number | string, env: Record<string, string> = {}) =>
	`env -u CI -u CONTINUOUS_INTEGRATION HEAPTOP_DIR=${quote(dir)} ${Object.entries(env)
		.map(([k, v]) => `${k}=${quote(v)} `)
		.join('')}${bundledCommand().map(quote).join(' ')} ${target}`;

test('e2e - heaptop opens on the demo, draws GC pauses, survives a resize, q exits 0 and restores the terminal', async t => {
	const demo = await startDemo(tempDir());
	t.teardown(() => demo.stop());
	const session = `heaptop-e2e-${process.pid}`;
	const command = [
		'echo BEFORE-HEAPTOP',
		'tty=$(stty -g)',
		heaptopIn(demo.dir, demo.pid),
		'echo EXITED:$?',
		'[ "$(stty -g)" = "$tty" ] && echo TTY-RESTORED',
		'sleep 600',
	].join('; ');
	tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', command);
	t.teardown(() => killServer(socketName));
	const screen = () => tmux('capture-pane', '-t', session, '-p');
	const alternate = () => tmux('display-message', '-t', session, '-p', '#{alternate_on}').trim();

	const frame = await waitFor('a connected frame with GC pauses', () => {
		const s = screen();
		return /● connected/.test(s) && /^GC pause {4}.*[▁▂▃▄▅▆▇█].* min /m.test(s) && s;
	}, {timeoutMs: 30_000});
	t.is(alternate(), '1', 'on the alternate screen');
	const lines = frame.split('\n');
	t.regex(lines[0]!, new RegExp(`^heaptop  pid ${demo.pid}  go1`));
	// The frame is rows-1 tall: key hints on row 29, the last row left blank.
	t.regex(lines[28]!, /^q quit {2}\? help {2}p pause/);
	t.is(lines[29], '');

	tmux('send-keys', '-t', session, '?');
	await waitFor('the help overlay', () => screen().includes('pause or resume the display'));
	tmux('send-keys', '-t', session, '?');
	await waitFor('help closed', () => /^GC pause/m.test(screen()));

	tmux('resize-window', '-t', session, '-x', '72', '-y', '14');
	const small = await waitFor('a frame laid out for 72x14', () => {
		const s = screen();
		const rows = s.split('\n');
		return /^GC pause {4}.*min/m.test(s) && rows[0]!.startsWith('heaptop') && /● connected$/.test(rows[0]!.trimEnd()) && rows.every(r => r.length <= 72) && s;
	});
	t.regex(small.split('\n')[12]!, /^q quit/, 'key hints on row 13 of 14');
	t.regex(small, /^heap live {3}.* min .* max .* last /m);

	tmux('send-keys', '-t', session, 'q');
	const after = await waitFor('heaptop to exit', () => /EXITED:\d+/.exec(screen())?.[0]);
	t.is(after, 'EXITED:0');
	t.is(alternate(), '0', 'alternate screen left');
	const restored = screen();
	t.true(restored.includes('BEFORE-HEAPTOP'), 'the shell text is back');
	await waitFor('the tty settings check', () => screen().includes('TTY-RESTORED'));
	t.false(restored.includes('GC pause'), 'no frame left on the main screen');
});

test('e2e - ctrl-c quits with 0 and SIGTERM with 143, both restoring the terminal', async t => {
	const demo = await startDemo(tempDir());
	t.teardown(() => demo.stop());
	const session = `heaptop-e2e-signals-${process.pid}`;
	const run = (n: number) => [heaptopIn(demo.dir, demo.pid), `echo EXITED${n}:$?`, `[ "$(stty -g)" = "$tty" ] && echo TTY-RESTORED${n}`];
	const command = ['tty=$(stty -g)', ...run(1), ...run(2), 'sleep 600'].join('; ');
	tmux2('new-session', '-d', '-s', session, '-x', '100', '-y', '30', command);
	t.teardown(() => killServer(`${socketName}-signals`));
	const screen = () => tmux2('capture-pane', '-t', session, '-p');
	const alternate = () => tmux2('display-message', '-t', session, '-p', '#{alternate_on}').trim();
	await waitFor('the first heaptop', () => screen().includes('● connected'), {timeoutMs: 30_000});
	// A key round trip first: Ink turns raw mode on just after its first frame,
	// and a ctrl-c before that is a SIGINT (exit 130), not a key.
	tmux2('send-keys', '-t', session, '?');
	await waitFor('the help overlay', () => screen().includes('pause or resume the display'));
	tmux2('send-keys', '-t', session, 'C-c');
	await waitFor('ctrl-c to quit', () => screen().includes('EXITED1:0') && screen().includes('TTY-RESTORED1'));
	await waitFor('the second heaptop', () => alternate() === '1' && screen().includes('● connected'), {timeoutMs: 30_000});
	const shell = Number(tmux2('display-message', '-t', session, '-p', '#{pane_pid}').trim());
	const heaptop = Number(execFileSync('pgrep', ['-P', String(shell)], {encoding: 'utf8'}).trim().split('\n')[0]);
	process.kill(heaptop, 'SIGTERM');
	await waitFor('SIGTERM to end it', () => screen().includes('EXITED2:143') && screen().includes('TTY-RESTORED2'));
	t.is(alternate(), '0');
});

/**
 * Runs heaptop in a fresh tmux session of a server of its own, in a shell
 * that reports its exit status and whether the tty settings came back, and
 * waits for the first connected frame and a key round trip (raw mode is on
 * from then). Returns what the test drives it with.
 */
async function liveSession(t: import('ava').ExecutionContext, name: string, heaptop: string) {
	const server = `${socketName}-${name}`;
	const run = tmuxOn(server);
	const command = ['tty=$(stty -g)', heaptop, 'echo EXITED:$?', '[ "$(stty -g)" = "$tty" ] && echo TTY-RESTORED', 'sleep 600'].join('; ');
	run('new-session', '-d', '-s', name, '-x', '100', '-y', '30', command);
	t.teardown(() => killServer(server));
	const screen = () => run('capture-pane', '-t', name, '-p');
	const alternate = () => run('display-message', '-t', name, '-p', '#{alternate_on}').trim();
	const keys = (...k: string[]) => run('send-keys', '-t', name, ...k);
	const resize = (x: number, y: number) => run('resize-window', '-t', name, '-x', String(x), '-y', String(y));
	await waitFor('a connected frame', () => screen().includes('● connected'), {timeoutMs: 30_000});
	keys('?');
	await waitFor('the help overlay', () => screen().includes('pause or resume the display'));
	keys('?');
	await waitFor('help closed', () => /^GC pause/m.test(screen()));
	/** Quits with q and checks the exit status, the tty settings and the main screen. */
	const quit = async () => {
		keys('q');
		await waitFor('heaptop to exit, the tty restored', () => screen().includes('TTY-RESTORED'));
		t.true(screen().includes('EXITED:0'), screen());
		t.is(alternate(), '0', 'alternate screen left');
	};
	return {screen, keys, resize, quit};
}

test.serial('e2e - the agent is killed while heaptop is live: the screen says the process has exited, q exits 0 and restores the terminal', async t => {
	const demo = await startDemo(tempDir());
	t.teardown(() => demo.stop());
	const session = await liveSession(t, 'killed', heaptopIn(demo.dir, demo.pid));
	// Something seen first: heaptop can be on screen before the demo's first GC cycle.
	await waitFor('a GC pause on screen', () => /^GC pause {4}.* min /m.test(session.screen()));
	await demo.stop('SIGKILL');
	const frame = await waitFor('the failure on screen', () => {
		const s = session.screen();
		return s.includes(`process ${demo.pid} has exited`) && s;
	});
	const lines = frame.split('\n');
	t.regex(lines[0]!, new RegExp(`^heaptop  pid ${demo.pid}  go1.* failed$`), 'the header still names the process, and says failed');
	t.is(lines[2], `process ${demo.pid} has exited`);
	t.regex(frame, /^GC pause {4}.* min /m, 'what was seen stays on screen');
	await session.quit();
});

test.serial('e2e - through a slow link that stalls, the screen keeps answering keys and q exits 0', async t => {
	const token = '0123456789abcdef0123456789abcdef';
	const demo = await startDemo(tempDir(), {args: ['-tcp', '127.0.0.1:0', '-tick=250ms'], env: {HEAPTOP_TOKEN: token}});
	t.teardown(() => demo.stop());
	const link = await slowLink(demo.tcp!, {bytesPerSecond: 4096, delayMs: 100});
	t.teardown(() => link.close());
	const session = await liveSession(t, 'slow', heaptopIn(demo.dir, link.address, {HEAPTOP_TOKEN: token}));
	const forwarded = link.forwarded();
	link.stall();
	session.keys('?');
	await waitFor('the help overlay, drawn while the link is stalled', () => session.screen().includes('pause or resume the display'));
	session.keys('?');
	await waitFor('help closed', () => /^GC pause/m.test(session.screen()));
	t.is(link.forwarded(), forwarded, 'nothing came through meanwhile');
	link.resume();
	await waitFor('data through the link again', () => link.forwarded() > forwarded, {timeoutMs: 30_000});
	t.true(session.screen().includes('● connected'), session.screen());
	await session.quit();
});

test.serial('e2e - c captures the planted program, d shows the dangling chain with main.freedHandles and its allocation line, a resize mid-capture holds, q leaves the chain in the scrollback', async t => {
	// agent/testdata/progs/hidden plants uintptrs to freed slots in main.freedHandles (its
	// backing array allocated on the line marked handles) and runs until its stdin closes. A capture on
	// two loaded cores can take minutes (the dump of a GC-off heap, then the analysis).
	t.timeout(300_000);
	const handles = `main.go:${markerLine('agent/testdata/progs/hidden/main.go', 'handles')}`;
	const binary = await buildGo('./testdata/progs/hidden', 'hidden');
	const program = await startDemo(tempDir(), {binary, stdinOpen: true});
	t.teardown(() => program.stop());
	const session = await liveSession(t, 'planted', heaptopIn(program.dir, program.pid));
	session.keys('c');
	await waitFor('the capture under way', () => /^capturing /m.test(session.screen()));
	session.resize(80, 24);
	const resized = await waitFor('a frame laid out for 80x24 while capturing', () => {
		const s = session.screen();
		const rows = s.split('\n');
		return rows.every(r => r.length <= 80) && /^heaptop/.test(rows[0]!) && /^q quit/m.test(s) && s;
	});
	t.regex(resized, /^(capturing #1|snapshot #1) /m, 'the capture line is still there');
	session.resize(120, 40);
	await waitFor('the snapshot', () => /^snapshot #1 /m.test(session.screen()), {timeoutMs: 280_000, intervalMs: 500});
	session.keys('d');
	const frame = await waitFor('the dangling chain', () => {
		const s = session.screen();
		return / Path {2}dangling 1\/\d+ /.test(s) && s.includes(handles) && s;
	}, {timeoutMs: 120_000, intervalMs: 500}).catch((error: unknown) => {
		// The whole chain may wait for the agent's analysis to finish; if it never comes, show the screen.
		throw new Error(`${(error as Error).message}; the screen:\n${session.screen()}`);
	});
	const lines = frame.split('\n');
	const at = lines.findIndex(l => l.startsWith(' Path '));
	t.regex(lines[at + 1]!, /^main\.freedHandles\[0\] holds 0x[0-9a-f]+ as uintptr: free 3200 B slot \(1 of 12 of this shape\)/);
	t.regex(lines[at + 2]!, /^┌ main\.freedHandles +\[\]uintptr +24 B/);
	t.regex(lines[at + 3]!, /^├ main\.freedHandles +\[\]uintptr backing array +96 B {2}alloc main\.go:\d+ main\.plantFreed/);
	t.true(lines[at + 3]!.includes(`alloc ${handles} main.plantFreed`));
	t.regex(lines[at + 4]!, /^╎ \[0\] +uintptr +8 B {2}hidden word at 0x[0-9a-f]+ \(the GC/);
	t.regex(lines[at + 5]!, /^└ free 3200 B slot {2}3\.13 KiB {2}at 0x[0-9a-f]+ \(freed\)/);
	await session.quit();
	// The chain stays printed on the main screen, below the shell's own lines.
	const after = session.screen();
	t.regex(after, /^main\.freedHandles\[0\] holds 0x[0-9a-f]+ as uintptr: free 3200 B slot/m);
	t.true(after.includes(`alloc ${handles} main.plantFreed`));
	t.regex(after, /^└ free 3200 B slot/m);
});
