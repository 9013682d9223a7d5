// The whole test command (`npm test`): runs every suite in order, streams
// their output, and ends with one line `N passed, N failed` that sums them
// all — the line CI reads. Exit status is non-zero when anything failed.
//
// Suites: the generated protocol code is current; TypeScript type-checks;
// `go vet` and `go test` in agent/; ava (unit, view and end-to-end tests).
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Tally = {passed: number; failed: number};

/** Runs a command, echoing its output; each output line goes to `onLine` too. */
function run(
	cmd: string,
	args: string[],
	cwd: string,
	onLine: (line: string) => void = () => {},
): Promise<number> {
	return new Promise(resolve => {
		const child = spawn(cmd, args, {cwd, stdio: ['ignore', 'pipe', 'inherit']});
		readline.createInterface({input: child.stdout}).on('line', line => {
			onLine(line);
		});
		child.on('error', error => {
			console.error(`${cmd}: ${error.message}`);
			resolve(127);
		});
		child.on('close', code => resolve(code ?? 1));
	});
}

/** A suite whose only result is its exit status counts as one test. */
async function single(name: string, cmd: string, args: string[], cwd = root): Promise<Tally> {
	console.log(`\n== ${name}: ${cmd} ${args.join(' ')}`);
	const code = await run(cmd, args, cwd, line => console.log(line));
	console.log(`== ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`}`);
	return code === 0 ? {passed: 1, failed: 0} : {passed: 0, failed: 1};
}

/**
 * go test -json, counting top-level tests. A package that fails without any
 * failing test (a build error, a panic in init, a timeout) counts as one
 * failure so it cannot hide.
 */
async function goTest(): Promise<Tally> {
	console.log('\n== go test ./... (agent/)');
	const tally = {passed: 0, failed: 0};
	const failedTests = new Map<string, number>();
	const code = await run('go', ['test', '-json', '-count=1', '-timeout=40m', './...'], path.join(root, 'agent'), line => {
		let event: {Action?: string; Package?: string; Test?: string; Output?: string};
		try {
			event = JSON.parse(line);
		} catch {
			console.log(line);
			return;
		}
		const pkg = event.Package ?? '';
		if (event.Action === 'output' && event.Output) {
			// Keep the log readable: show failures and package summaries, not every RUN line.
			const out = event.Output;
			if (!/^(=== (RUN|PAUSE|CONT|NAME)|--- PASS)/.test(out.trimStart())) process.stdout.write(out);
			return;
		}
		if (event.Test && !event.Test.includes('/')) {
			if (event.Action === 'pass') tally.passed++;
			if (event.Action === 'fail') {
				tally.failed++;
				failedTests.set(pkg, (failedTests.get(pkg) ?? 0) + 1);
			}
		} else if (!event.Test && event.Action === 'fail' && !failedTests.get(pkg)) {
			tally.failed++;
		}
	});
	if (code !== 0 && tally.failed === 0) tally.failed++;
	console.log(`== go test: ${tally.passed} passed, ${tally.failed} failed`);
	return tally;
}

/**
 * ava in TAP mode; its `# pass` / `# fail` lines give the counts. First the
 * shipped bundle is rebuilt (the end-to-end tests run it), and the demo the
 * tests run is built once here (HEAPTOP_DEMO), not once per test process.
 */
async function ava(): Promise<Tally> {
	console.log('\n== ava');
	const tally = {passed: 0, failed: 0};
	await run('npm', ['run', '--silent', 'build'], root, line => console.log(line));
	const demo = path.join(root, '.build/demo');
	const built = await run('go', ['build', '-o', demo, './examples/demo'], path.join(root, 'agent'), line => console.log(line));
	if (built === 0) process.env['HEAPTOP_DEMO'] = demo;
	const code = await run(path.join(root, 'node_modules/.bin/ava'), ['--tap'], root, line => {
		console.log(line);
		const m = /^# (pass|fail) (\d+)$/.exec(line);
		if (m) tally[m[1] === 'pass' ? 'passed' : 'failed'] += Number(m[2]);
	});
	if (code !== 0 && tally.failed === 0) tally.failed++;
	console.log(`== ava: ${tally.passed} passed, ${tally.failed} failed`);
	return tally;
}

const suites: Array<() => Promise<Tally>> = [
	() => single('generated code is current', path.join(root, 'proto/gen.sh'), ['--check']),
	() => single('typecheck', path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json']),
	() => single('go vet', 'go', ['vet', './...'], path.join(root, 'agent')),
	goTest,
	ava,
];

const total = {passed: 0, failed: 0};
for (const suite of suites) {
	const t = await suite();
	total.passed += t.passed;
	total.failed += t.failed;
}
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exitCode = total.failed === 0 ? 0 : 1;
