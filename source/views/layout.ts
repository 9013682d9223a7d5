// Layout: takes the terminal's size and what the screen has to show, and
// gives how many lines each part gets. One function serves the App, which
// draws with it, and the live container, which tells the store each pane's
// height so that page moves and scrolling match what is drawn.
import type {Snapshot} from '../store/store.js';
import type {Navigation, PaneHeights} from '../store/navigation.js';
import {connectionReason} from './Header.js';
import {message} from './SnapshotLine.js';

export type Layout = {
	/** Lines of the header block: Header (2 or 3) and SnapshotLine (1 or 2). */
	readonly header: number;
	/** Lines of the sparklines, 0 when the terminal is too short for them. */
	readonly sparklines: number;
	/** Blank lines between the blocks, when there is room. */
	readonly gaps: boolean;
	/** Rows of the heap tree below its title line. */
	readonly tree: number;
	/** Lines of the lower pane (lists or path) below its first line; 0 hides it. */
	readonly lower: number;
};

/** The lower pane's share of the panes' lines: the path gets more, a chain reads better whole. */
const listsShare = 0.45;
const pathShare = 0.55;

/**
 * The frame is rows-1 lines (App): header, snapshot line, sparklines, the
 * tree, the lists or the path, and the footer. Sparklines go first when the
 * terminal is short (unless there is no snapshot yet, when they are all
 * there is), then the blank lines, then the lower pane.
 */
export function layout(snapshot: Snapshot, navigation: Navigation, rows: number, nowMs: number): Layout {
	const height = Math.max(1, rows - 1);
	const header = 2 + (connectionReason(snapshot.connection) ? 1 : 0) + 1 + (message(snapshot.heap, nowMs) ? 1 : 0);
	let rest = height - header - 1; // the footer
	// Before the first snapshot the sparklines are all there is to see.
	const sparkLines = 3 + (snapshot.pausesMissed > 0 ? 1 : 0);
	const sparklines = rest >= 22 || (!snapshot.heap.document && rest >= sparkLines) ? sparkLines : 0;
	rest -= sparklines;
	const gaps = rest >= 16;
	if (gaps) rest -= sparklines > 0 ? 2 : 1;
	// Each pane has a title line; the lists have a column heading under it too.
	const panes = rest - 2;
	if (panes < 6) return {header, sparklines, gaps, tree: Math.max(0, rest - 1), lower: 0};
	const lower = Math.round(panes * (navigation.path ? pathShare : listsShare));
	return {header, sparklines, gaps, tree: panes - lower, lower};
}

/** What the store needs for page moves: the rows each pane shows. */
export function paneHeights(l: Layout): PaneHeights {
	return {tree: Math.max(1, l.tree), lists: Math.max(1, l.lower - 1), path: Math.max(1, l.lower - 1)};
}
