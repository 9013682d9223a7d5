// Formatting: takes numbers in the units the store holds (bytes, ns, bytes/s,
// ms since the epoch) and gives the short strings every view and the --once
// report print. The one place figures are formatted, so the live screen and
// the report always agree.

/** Output restricted to ASCII (--ascii, TERM=dumb): µ becomes u. */
export type FormatOptions = {readonly ascii?: boolean};

const byteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Three significant digits: 1.23, 12.3, 123. */
function sig3(x: number): string {
	if (x >= 100) return x.toFixed(0);
	if (x >= 10) return x.toFixed(1);
	return x.toFixed(2);
}

/** 0 B, 512 B, 1.50 KiB, 12.3 MiB, 1.02 GiB (IEC units, as the runtime's metrics). */
export function formatBytes(bytes: number): string {
	if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.round(Number.isFinite(bytes) ? bytes : 0)} B`;
	let unit = 0;
	let x = bytes;
	while (x >= 1024 && unit < byteUnits.length - 1) {
		x /= 1024;
		unit++;
	}
	// 1023.9 KiB would print as "1024 KiB"; show it as 1.00 MiB instead.
	if (sig3(x) === '1024' && unit < byteUnits.length - 1) {
		x /= 1024;
		unit++;
	}
	return `${sig3(x)} ${byteUnits[unit]}`;
}

/** Bytes per second: 3.40 MiB/s. */
export function formatRate(bytesPerSecond: number): string {
	return `${formatBytes(bytesPerSecond)}/s`;
}

/** A pause or other short duration: 850 ns, 45.2 µs, 1.20 ms, 2.00 s. */
export function formatDuration(ns: number, {ascii = false}: FormatOptions = {}): string {
	if (ns < 1_000) return `${Math.round(ns)} ns`;
	if (ns < 999_500) return `${sig3(ns / 1e3)} ${ascii ? 'us' : 'µs'}`;
	if (ns < 999_500_000) return `${sig3(ns / 1e6)} ms`;
	return `${sig3(ns / 1e9)} s`;
}

/**
 * A count with thousands separators: 123,456. As toLocaleString('en-US')
 * writes it, without the ~30 ms its first call takes to build ICU's number
 * formatter, most of it on the first frame.
 */
export function formatCount(n: number): string {
	return String(Math.round(n)).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** A fraction 0..1 as a percentage: 0.31%, 12.5%. */
export function formatPercent(fraction: number): string {
	const p = fraction * 100;
	return `${p >= 10 ? p.toFixed(1) : p.toFixed(2)}%`;
}

/** Shortens `text` to `width` columns, keeping its end (paths keep their file name). */
export function ellipsizeStart(text: string, width: number, {ascii = false}: FormatOptions = {}): string {
	if (text.length <= width) return text;
	const mark = ascii ? '...' : '…';
	return width <= mark.length ? text.slice(-width) : mark + text.slice(-(width - mark.length));
}

/** A wait until `atMs`, from `nowMs`, in whole tenths of a second: "in 1.2 s". */
export function formatWait(atMs: number, nowMs: number): string {
	return `in ${Math.max(0, (atMs - nowMs) / 1000).toFixed(1)} s`;
}

/** A time since `atMs`, as an age: "4 s ago", "12 min ago", "3 h ago". */
export function formatAge(atMs: number, nowMs: number): string {
	const s = Math.max(0, Math.round((nowMs - atMs) / 1000));
	if (s < 120) return `${s} s ago`;
	if (s < 2 * 3600) return `${Math.round(s / 60)} min ago`;
	return `${Math.round(s / 3600)} h ago`;
}

/** A count of folded siblings: "×12,000" ("x12,000" in ASCII). */
export function formatTimes(count: number, {ascii = false}: FormatOptions = {}): string {
	return `${ascii ? 'x' : '×'}${formatCount(count)}`;
}

/** Branch pieces: a rail that continues, a gap, a middle and a last connector, and the open/closed/leaf marks. */
const glyphs = {
	unicode: {rail: '│  ', gap: '   ', middle: '├─', last: '└─', open: '▾', closed: '▸', leaf: '─', more: '…'},
	ascii: {rail: '|  ', gap: '   ', middle: '|-', last: '`-', open: 'v', closed: '>', leaf: '-', more: '...'},
} as const;

/** The branch pieces of the tree and of open list groups, for the terminal's character set. */
export function branchGlyphs(ascii = false): (typeof glyphs)['unicode' | 'ascii'] {
	return ascii ? glyphs.ascii : glyphs.unicode;
}

/** A heap address: 0xc000123450. */
export function formatAddress(address: number): string {
	return `0x${address.toString(16)}`;
}

/** A source location as the tables show it: file name and line ("lru.go:42"); the directory adds nothing there. */
export function formatSite(site: {readonly file: string; readonly line: number} | undefined): string {
	if (!site) return '';
	const file = site.file.slice(site.file.lastIndexOf('/') + 1);
	return site.line > 0 ? `${file}:${site.line}` : file;
}

/** The states' colours (design.md §3): green live, yellow pending reclaim, red dangling. */
export type StateColour = 'green' | 'yellow' | 'red' | undefined;

export function stateColour(state: string): StateColour {
	switch (state) {
		case 'live':
			return 'green';
		case 'pending':
		case 'pending-finalizer':
		case 'weak':
			return 'yellow';
		case 'free':
		case 'stack':
			return 'red';
		default:
			return undefined;
	}
}

/** What a state is called where a table or a path spells it out. */
export function stateName(state: string): string {
	switch (state) {
		case 'pending-finalizer':
			return 'pending finalizer';
		case 'weak':
			return 'weakly held';
		case 'free':
			return 'freed';
		case 'stack':
			return 'on a stack';
		default:
			return state;
	}
}

/** A finding's colour: magenta for what is retained too long (a leak, a suspect), red for a hidden reference. */
export function findingColour(kind: string): 'magenta' | 'red' {
	return kind === 'leak' || kind === 'suspect' ? 'magenta' : 'red';
}

/** Finding kinds as the UI spells them. */
export function findingName(kind: string): string {
	switch (kind) {
		case 'dangling-soon':
			return 'dangling soon';
		case 'stack':
			return 'stack reference';
		default:
			return kind;
	}
}

/** `text` cut to `width` columns with an ellipsis at the end, or padded to it. */
export function fit(text: string, width: number, {ascii = false}: FormatOptions = {}): string {
	if (width <= 0) return '';
	if (text.length <= width) return text.padEnd(width);
	const mark = ascii ? '.' : '…';
	return text.slice(0, width - 1) + mark;
}

/** The allocation site's column; dropped on terminals narrower than siteMinColumns. */
const siteWidth = 22;
const siteMinColumns = 100;

/** Widths of a row's name and site beside `figures` columns of numbers (heap tree and lists). */
export function nameAndSiteColumns(width: number, figures: number): {name: number; site: number} {
	const site = width >= siteMinColumns ? siteWidth : 0;
	return {name: Math.max(10, width - figures - (site > 0 ? site + 1 : 0) - 1), site};
}
