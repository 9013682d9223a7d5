// End to end in tmux: heaptop opens on the running demo in a real terminal,
// draws a GC pause sparkline, survives a resize, and `q` exits 0 leaving the
// terminal as it was. The program under test runs without CI=true: Ink draws
// nothing until exit while CI is set (shared/reference/tui-stack.md §7).
import test from 'ava';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {startDemo, tempDir} from './helpers/demo.js';
import {bundledCommand} from './helpers/heaptop.js';
import {waitFor} from './helpers/wait.js';

/** A tmux server of this test's own (-L), so no other tmux user is touched and none touches us. */
const socketName = `heaptop-e2e-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socketName, ...args], {encoding: 'utf8'});
const tmux2 = (...args: string[]) => execFileSync('tmux', ['-L', `${socketName}-signals`, ...args], {encoding: 'utf8'});

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
const heaptopIn = (dir: string, pid: number) => `env -u CI -u CONTINUOUS_INTEGRATION HEAPTOP_DIR=${quote(dir)} ${bundledCommand().map(quote).join(' ')} ${pid}`;

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
