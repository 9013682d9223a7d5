// Benchmark: heaptop's start-to-first-frame time and resident memory, in a
// real terminal (tmux, 100x30) on the real demo. Not a test: it prints
// figures for BENCHMARKS.md.
//
//   npm run build && node --import tsx test/bench/startup.ts [runs=10] [bundle...]
//
// With bundles named (default: dist/heaptop.js), their runs alternate on
// the same demo, so that a busy machine weighs on each alike. A fair
// before-and-after: build the old commit, `cp dist/heaptop.js
// dist/before.js` (in dist/, where package.json makes it an ES module),
// build the new one, and name dist/before.js dist/heaptop.js. The 60 s
// figures are the last series's.
//
// First frame: from spawning `node dist/heaptop.js <pid>` to the first
// capture of the pane that shows "● connected" with a GC pause sparkline
// (the pane is polled every 5 ms, so figures are up to ~5 ms late).
// The harness's own share, the floor, is measured the same way with a pane
// that prints those two lines from sh at once: tmux's server and pane
// start, the polling. "heaptop's part" is a series' median less the
// floor's: the time from heaptop's exec to its first frame.
// NODE_EXTRA_CA_CERTS, when set (this sandbox sets it for every process),
// makes Node read and parse that certificate file before running any
// script; each bundle then also runs without it, as a series of its own.
// CPU: user+system time heaptop had used when its first frame was seen
// (/proc/<pid>/stat), which a busy machine inflates far less than wall time;
// with the page faults it had taken by then (minor: pages mapped without
// I/O), which cost far more on some VMs than on hardware (BENCHMARKS.md).
// Memory: VmRSS and VmHWM of the heaptop process from /proc, right after
// the first frame and after 60 s of live ticks.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startDemo, tempDir, root} from '../helpers/demo.js';
import {waitFor} from '../helpers/wait.js';

const runs = Number(process.argv[2] ?? 10);
const bundles = process.argv.length > 3 ? process.argv.slice(3).map(b => path.resolve(b)) : [path.join(root, 'dist/heaptop.js')];
/** Each run gets a tmux server of its own (-L): sessions of other users of tmux are never touched. */
let socketName = '';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socketName, ...args], {encoding: 'utf8'});
for (const bundle of bundles) if (!fs.existsSync(bundle)) throw new Error(`no ${bundle}: run npm run build first`);

function memory(pid: number): {rssMiB: number; hwmMiB: number} {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
	return {rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024};
}

/** The fields of /proc/<pid>/stat after "pid (comm) ". */
const statFields = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
	const fields = statFields(pid);
	// utime and stime are fields 14 and 15 of stat (0-based 11, 12 here), in clock ticks.
	const ticksPerSecond = 100;
	return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Minor page faults a process has taken: field 10 of stat (0-based 7 here). */
const minorFaults = (pid: number) => Number(statFields(pid)[7]);

/** Stops this run's tmux server and removes its socket file, which kill-server leaves behind. */
function killServer(): void {
	try {
		tmux('kill-server');
	} catch {
		// Already gone.
	}
	fs.rmSync(path.join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid!()}`, socketName), {force: true});
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** What one series of runs starts in the pane, and how it is named in the figures. */
interface Series {
	label: string;
	command: string[];
	/** The harness floor: no heaptop, no CPU or page-fault figures. */
	floor?: boolean;
}

const demo = await startDemo(tempDir());
const series: Series[] = [{label: 'floor (sh prints the lines)', command: ['sh', '-c', "printf '● connected\\nGC pause ▁\\n'; exec sleep 600"], floor: true}];
for (const bundle of bundles) {
	const name = path.relative(root, bundle);
	series.push({label: name, command: ['env', '-u', 'CI', process.execPath, bundle, String(demo.pid)]});
	if (process.env['NODE_EXTRA_CA_CERTS']) {
		series.push({label: `${name} without NODE_EXTRA_CA_CERTS`, command: ['env', '-u', 'CI', '-u', 'NODE_EXTRA_CA_CERTS', process.execPath, bundle, String(demo.pid)]});
	}
}
const firstFrames = series.map(() => [] as number[]);
const firstFrameCpu = series.map(() => [] as number[]);
const firstFrameFaults = series.map(() => [] as number[]);
let lastPanePid = 0;
const session = `heaptop-bench-${process.pid}`;
try {
	for (let i = 0; i < runs; i++) {
		for (const [b, {command, floor}] of series.entries()) {
			socketName = `heaptop-bench-${process.pid}-${i}-${b}`;
			const start = performance.now();
			tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-e', `HEAPTOP_DIR=${demo.dir}`, ...command);
			await waitFor('first frame', () => /● connected/.test(tmux('capture-pane', '-t', session, '-p')) && /^GC pause .*[▁▂▃▄▅▆▇█]/m.test(tmux('capture-pane', '-t', session, '-p')), {intervalMs: 5, timeoutMs: 30_000});
			firstFrames[b]!.push(performance.now() - start);
			if (!floor) {
				lastPanePid = Number(tmux('display-message', '-t', session, '-p', '#{pane_pid}').trim());
				firstFrameCpu[b]!.push(cpuSeconds(lastPanePid) * 1000);
				firstFrameFaults[b]!.push(minorFaults(lastPanePid));
			}
			if (i < runs - 1 || b < series.length - 1) killServer();
		}
	}
	// env execs node, so the pane's process is heaptop itself.
	const atFirst = memory(lastPanePid);
	await new Promise(resolve => setTimeout(resolve, 60_000));
	const after60 = memory(lastPanePid);
	const cpu60 = cpuSeconds(lastPanePid);
	console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}, load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`);
	const floor = median(firstFrames[0]!);
	for (const [b, {label, floor: isFloor}] of series.entries()) {
		const frames = firstFrames[b]!;
		console.log(`${label}:`);
		console.log(`  start to first frame over ${runs} runs: median ${median(frames).toFixed(0)} ms, min ${Math.min(...frames).toFixed(0)} ms, max ${Math.max(...frames).toFixed(0)} ms`);
		if (isFloor) continue;
		const cpu = firstFrameCpu[b]!;
		console.log(`  heaptop's part (median less the floor's): ${(median(frames) - floor).toFixed(0)} ms`);
		console.log(`  CPU time used by then: median ${median(cpu).toFixed(0)} ms, min ${Math.min(...cpu).toFixed(0)} ms`);
		console.log(`  minor page faults by then: median ${median(firstFrameFaults[b]!)}`);
	}
	const lastCpu = firstFrameCpu.at(-1)!.at(-1)!;
	console.log(`CPU time over the next 60 s of live ticks: ${((cpu60 * 1000 - lastCpu) / 60).toFixed(1)} ms per second (${((cpu60 * 1000 - lastCpu) / 600).toFixed(2)}% of one core)`);
	console.log(`resident memory at first frame: ${atFirst.rssMiB.toFixed(1)} MiB (peak ${atFirst.hwmMiB.toFixed(1)} MiB)`);
	console.log(`resident memory after 60 s live: ${after60.rssMiB.toFixed(1)} MiB (peak ${after60.hwmMiB.toFixed(1)} MiB)`);
} finally {
	killServer();
	await demo.stop();
}
