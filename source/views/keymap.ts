// The keymap: the one table of keys, what they do and how help describes them
// (k9s' KeyActions). The app's single input handler dispatches from it and
// the help overlay and footer hints are rendered from it, so help cannot
// drift from behaviour.
import type {Key} from 'ink';

export type Action =
	| 'quit'
	| 'help'
	| 'pause'
	| 'capture'
	| 'capture-gc'
	| 'next-dangling'
	| 'previous-dangling'
	| 'next-pane'
	| 'previous-pane'
	| 'up'
	| 'down'
	| 'page-up'
	| 'page-down'
	| 'first'
	| 'last'
	| 'enter'
	| 'left'
	| 'right'
	| 'filter'
	| 'sort'
	| 'close';

export type KeyBinding = {
	/** Key names as keyNames() gives them: a character, "ctrl-c", "esc", "up", "pagedown". */
	readonly keys: readonly string[];
	readonly description: string;
	readonly action: Action;
	/** One word for the footer's hints; none keeps it out of the footer (help lists every binding). */
	readonly hint?: string;
};

export const keymap: readonly KeyBinding[] = [
	{keys: ['q', 'ctrl-c'], description: 'quit (the last path opened stays printed)', action: 'quit', hint: 'quit'},
	{keys: ['?'], description: 'show or hide this help', action: 'help', hint: 'help'},
	{keys: ['p'], description: 'pause or resume the display', action: 'pause', hint: 'pause'},
	{keys: ['c'], description: 'take a heap snapshot now', action: 'capture', hint: 'capture'},
	{keys: ['C'], description: 'run a GC, then take a heap snapshot', action: 'capture-gc'},
	{keys: ['d'], description: 'next dangling reference: open its path', action: 'next-dangling', hint: 'dangling'},
	{keys: ['D'], description: 'previous dangling reference', action: 'previous-dangling'},
	{keys: ['tab'], description: 'next pane: tree, lists, path', action: 'next-pane', hint: 'pane'},
	{keys: ['shift-tab'], description: 'previous pane', action: 'previous-pane'},
	{keys: ['up', 'k'], description: 'up', action: 'up'},
	{keys: ['down', 'j'], description: 'down', action: 'down'},
	{keys: ['pageup', 'ctrl-b'], description: 'a page up', action: 'page-up'},
	{keys: ['pagedown', 'ctrl-f'], description: 'a page down', action: 'page-down'},
	{keys: ['g', 'home'], description: 'to the top', action: 'first'},
	{keys: ['G', 'end'], description: 'to the bottom', action: 'last'},
	{keys: ['enter'], description: 'open or close a tree node or a group; the path of a leaf, an object or a finding', action: 'enter'},
	{keys: ['left', 'h'], description: 'tree: close, or up to the parent; lists: previous tab', action: 'left'},
	{keys: ['right', 'l'], description: 'tree: open; lists: next tab', action: 'right'},
	{keys: ['/'], description: 'filter the list by type or site (enter keeps it)', action: 'filter', hint: 'filter'},
	{keys: ['s'], description: 'sort the list: bytes, count, retained, type', action: 'sort', hint: 'sort'},
	{keys: ['esc'], description: 'clear the filter; close the path or help', action: 'close'},
];

/** The parts of Ink's Key that name a key. */
export type KeyFlags = Partial<
	Pick<Key, 'ctrl' | 'escape' | 'upArrow' | 'downArrow' | 'leftArrow' | 'rightArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'tab' | 'shift' | 'backspace' | 'delete'>
>;

/** Keys Ink reports by flag, and their names; checked in this order. */
const flagged: ReadonlyArray<readonly [keyof KeyFlags, string]> = [
	['escape', 'esc'],
	['upArrow', 'up'],
	['downArrow', 'down'],
	['leftArrow', 'left'],
	['rightArrow', 'right'],
	['pageUp', 'pageup'],
	['pageDown', 'pagedown'],
	['home', 'home'],
	['end', 'end'],
	['return', 'enter'],
	['backspace', 'backspace'],
	['delete', 'backspace'],
];

/** Control characters that arrive inside a chunk of text, by name. */
const controls: Readonly<Record<string, string>> = {'\r': 'enter', '\n': 'enter', '\t': 'tab', '\u007f': 'backspace', '\b': 'backspace', '\u001b': 'esc'};

/** One character of a chunk as a key name: itself, or what a control character means (ctrl-a for \u0001). */
function charName(c: string): string {
	const code = c.charCodeAt(0);
	if (controls[c]) return controls[c];
	if (code < 0x20) return `ctrl-${String.fromCharCode(code + 0x60)}`;
	return c;
}

/**
 * Names the keys in one input event. Several characters can arrive in one
 * chunk (a paste, keys typed faster than the screen reads them, tmux
 * send-keys "pq"): each is a key of its own, and Ink flags none of them, so
 * a return or tab inside the chunk is named from its character.
 */
export function keyNames(input: string, key: KeyFlags): string[] {
	if (key.tab) return [key.shift ? 'shift-tab' : 'tab'];
	for (const [flag, name] of flagged) if (key[flag]) return [name];
	if (key.ctrl) return [`ctrl-${input.toLowerCase()}`];
	return [...input].map(charName);
}

/** The action bound to a key name, if any. */
export function actionFor(name: string, map: readonly KeyBinding[] = keymap): Action | undefined {
	return map.find(b => b.keys.includes(name))?.action;
}
