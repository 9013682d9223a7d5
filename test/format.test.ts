import test from 'ava';
import {formatBytes, formatCount, formatDuration, formatPercent, formatRate, formatWait, ellipsizeStart} from '../source/views/format.js';

test('format - bytes in IEC units with three significant digits', t => {
	const cases: Array<[number, string]> = [
		[0, '0 B'],
		[512, '512 B'],
		[1023, '1023 B'],
		[1024, '1.00 KiB'],
		[1536, '1.50 KiB'],
		[12.34 * 1024 ** 2, '12.3 MiB'],
		[1023.9 * 1024, '1.00 MiB'],
		[123.4 * 1024 ** 3, '123 GiB'],
	];
	for (const [input, want] of cases) t.is(formatBytes(input), want, `formatBytes(${input})`);
});

test('format - pause durations from ns to s, µs as us under --ascii', t => {
	const cases: Array<[number, string, string]> = [
		[850, '850 ns', '850 ns'],
		[45_230, '45.2 µs', '45.2 us'],
		[999_400, '999 µs', '999 us'],
		[999_600, '1.00 ms', '1.00 ms'],
		[1_204_000, '1.20 ms', '1.20 ms'],
		[2_000_000_000, '2.00 s', '2.00 s'],
	];
	for (const [ns, want, wantAscii] of cases) {
		t.is(formatDuration(ns), want);
		t.is(formatDuration(ns, {ascii: true}), wantAscii);
	}
});

test('format - rates, counts, percentages and waits', t => {
	t.is(formatRate(3.4 * 1024 ** 2), '3.40 MiB/s');
	t.is(formatCount(123_456), '123,456');
	for (const n of [0, 7, 999, 1_000, 12_345.6, 999_999.5, 1_000_000, 9_876_543_210, 2 ** 53]) t.is(formatCount(n), Math.round(n).toLocaleString('en-US'), `formatCount(${n})`);
	t.is(formatPercent(0.0031), '0.31%');
	t.is(formatPercent(0.125), '12.5%');
	t.is(formatWait(2_250, 1_000), 'in 1.3 s');
	t.is(formatWait(500, 1_000), 'in 0.0 s');
});

test('format - long paths keep their end', t => {
	t.is(ellipsizeStart('/very/long/path/to/demo', 10), '…h/to/demo');
	t.is(ellipsizeStart('/very/long/path/to/demo', 10, {ascii: true}), '...to/demo');
	t.is(ellipsizeStart('/short', 10), '/short');
});
